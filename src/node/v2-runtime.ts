import {
  HEADER_LENGTH,
  ModelError,
  decodeInferResponse,
  elementStrings,
  encodeInferRequest,
  labelDifference,
  labelsFromClassifications,
  metadataDifferences,
  parseRuntimeChoice,
  publishesLabels,
  specFromModel,
  type InferRequest,
  type InferResponse,
  type InferenceRuntime,
  type Log,
  type ModelSpec,
  type OnnxOutput,
  type OnnxSession,
  type V2Target,
} from '../core/index.ts';
import { RemoteError, V2Client, errorText, type V2ClientOptions } from './v2-client.ts';

// The remote runtime (--runtime v2://HOST:PORT/MODEL): one more InferenceRuntime, whose sessions
// send the tensors footwear decoded and resized here to a KServe v2 / Triton server, in binary,
// and read the scores back. The model bytes it is given stay here: it reads their spec only, to
// check the server's model is the same one before anything is classified with it.

/** The one device a remote runtime reports; the server chose the real one. */
export const REMOTE_DEVICE = 'remote';

export interface V2RuntimeOptions extends V2ClientOptions {
  /** Receives the line saying the labels could not be verified, when the server cannot tell them. */
  log?: Log;
}

async function infer(client: V2Client, request: InferRequest): Promise<InferResponse> {
  const encoded = encodeInferRequest(request, (input) => input.data instanceof Float32Array);
  const headers = {
    'content-type': encoded.headerLength === undefined ? 'application/json' : 'application/octet-stream',
    ...(encoded.headerLength !== undefined && { [HEADER_LENGTH]: encoded.headerLength }),
  };
  const answer = await client.call('POST', `${client.modelPath}/infer`, encoded.parts, headers);
  const url = client.target.url;
  if (answer.status !== 200) throw new RemoteError(answer.status, `${url}: inference answered ${answer.status}: ${errorText(answer)}`);
  try {
    return decodeInferResponse(answer.body, answer.headers[HEADER_LENGTH]);
  } catch (error) {
    throw new RemoteError(answer.status, `${url}: its inference answer breaks the protocol: ${(error as Error).message}`);
  }
}

class V2Session implements OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly executionProvider: string;

  constructor(
    private readonly client: V2Client,
    metadata: { inputs: { name: string }[]; outputs: { name: string }[] },
  ) {
    this.inputNames = metadata.inputs.map((t) => t.name);
    this.outputNames = metadata.outputs.map((t) => t.name);
    this.executionProvider = client.target.url;
  }

  async run(input: Float32Array, dims: readonly number[]): Promise<OnnxOutput> {
    const name = this.outputNames[0];
    return (await this.runOutputs(input, dims, [name]))[name];
  }

  async runOutputs(input: Float32Array, dims: readonly number[], names: readonly string[]): Promise<Record<string, OnnxOutput>> {
    const response = await infer(this.client, {
      inputs: [{ name: this.inputNames[0], datatype: 'FP32', shape: [...dims], data: input }],
      outputs: names.map((name) => ({ name, parameters: { binary_data: true } })),
    });
    const outputs: Record<string, OnnxOutput> = {};
    for (const name of names) {
      const output = response.outputs.find((o) => o.name === name);
      if (!output || !(output.data instanceof Float32Array)) {
        throw new RemoteError(200, `${this.client.target.url}: the answer has no FP32 output "${name}" (it has ${response.outputs.map((o) => `"${o.name}" ${o.datatype}`).join(', ') || 'none'})`);
      }
      outputs[name] = { data: output.data, dims: output.shape };
    }
    return outputs;
  }

  async release(): Promise<void> {
    this.client.close();
  }
}

/**
 * For a server that does not list labels in its metadata (Triton): one blank image, asking the
 * classification extension for every class, whose "value:index:label" strings carry the labels
 * when the model has them (Triton's label_filename, which footwear export triton writes).
 */
async function verifyLabels(client: V2Client, spec: ModelSpec, log: Log): Promise<void> {
  const { height, width } = spec.preprocess;
  const classes = spec.labels.length;
  const url = client.target.url;
  const unverified = (why: string) => log(`${url}: its labels could not be verified (${why}); make sure its output order is [${spec.labels.join(', ')}]`);
  let response: InferResponse;
  try {
    response = await infer(client, {
      inputs: [{ name: spec.inputName, datatype: 'FP32', shape: [1, height, width, 3], data: new Float32Array(height * width * 3) }],
      outputs: [{ name: spec.outputName, parameters: { classification: classes } }],
    });
  } catch (error) {
    // A server without the classification extension refuses the parameter; that is no mismatch.
    if (error instanceof RemoteError) return unverified(`it refused a classification request: ${error.message.replace(`${url}: `, '')}`);
    throw error;
  }
  const output = response.outputs.find((o) => o.name === spec.outputName);
  const labels = output && !(output.data instanceof Float32Array) ? labelsFromClassifications(elementStrings(output.data), classes) : undefined;
  if (!labels) return unverified('it lists no labels in its metadata and its classification answer carries none');
  const difference = labelDifference(labels, spec.labels);
  if (difference) throw new ModelError(url, `does not match the local model: ${difference}`);
}

/** A runtime whose sessions run on the model `target` names, after checking it matches the local spec. */
export function createV2Runtime(target: V2Target, options: V2RuntimeOptions = {}): InferenceRuntime {
  const { log = () => {}, ...clientOptions } = options;
  return {
    name: target.url,
    devices: { accelerator: REMOTE_DEVICE, cpu: REMOTE_DEVICE },
    async createSession(model: Uint8Array): Promise<OnnxSession> {
      const spec = specFromModel(model, 'the local model');
      const client = new V2Client(target, clientOptions);
      try {
        let metadata: unknown;
        try {
          metadata = await client.getJson();
        } catch (error) {
          if (error instanceof RemoteError && error.status === 404) throw new ModelError(target.url, `the server has no model "${target.model}" (${error.message.replace(/^.*?answered 404: /, '')})`);
          throw error;
        }
        const differences = metadataDifferences(metadata, spec);
        if (differences.length > 0) throw new ModelError(target.url, `does not match the local model: ${differences.join('; ')}`);
        if (!publishesLabels(metadata)) await verifyLabels(client, spec, log);
        return new V2Session(client, metadata as ConstructorParameters<typeof V2Session>[1]);
      } catch (error) {
        client.close();
        throw error;
      }
    },
  };
}

/** The runtime a runtime choice names: undefined for 'local' (the registered ONNX runtimes), a remote one for v2://. */
export function runtimeFor(value: string, options: V2RuntimeOptions = {}): InferenceRuntime | undefined {
  const choice = parseRuntimeChoice(value);
  return choice.kind === 'local' ? undefined : createV2Runtime(choice.target, options);
}
