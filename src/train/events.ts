export interface EpochStats {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  seconds: number;
}

/** How training reports progress; the CLI renders these as bars or plain lines. */
export interface TrainEvents {
  log?(line: string): void;
  /** A phase with a known amount of work ('features', 'epochs', ...). */
  progress?(phase: string, done: number, total: number): void;
  epoch?(stats: EpochStats): void;
}
