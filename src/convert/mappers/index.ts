// Importing a family registers its mappers; the exporter imports this once.
import './core.ts';
import './activations.ts';
import './conv.ts';
import './normalization.ts';
import './pooling.ts';
import './merge.ts';
import './reshaping.ts';
