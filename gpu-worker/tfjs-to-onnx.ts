/**
 * A TensorFlow.js graph model (NHWC) rewritten as an ONNX model (NCHW) for onnxruntime, for the ops that
 * MobileNet-style graphs use: convolutions, depthwise convolutions, batch-norm as Mul and Add, ReLU, clipping as
 * Minimum and Maximum, a global mean, dense layers (_FusedMatMul with BiasAdd and ReLU), Sigmoid and Softmax.
 * Any other op is refused by name. Run on the CPU's onnxruntime, FaceRes takes a fraction of the time it takes on
 * TensorFlow.js's WebAssembly backend (BENCHMARKS "Faces"), and CUDA where asked for, like the detectors.
 */
import { ModelProto } from './onnx-proto.js';

export interface TfjsNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, { s?: string; b?: boolean; i?: string; list?: { i?: string[]; s?: string[] }; shape?: { dim?: { size: string }[] } }>;
}

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; original_dtype?: string };
}

export interface TfjsGraphModel {
  nodes: readonly TfjsNode[];
  weightSpecs: readonly TfjsWeightSpec[];
  /** The weight files' bytes, concatenated in the manifest's order. */
  weightData: Uint8Array;
}

export interface OnnxConversion {
  /** The graph's single input, NCHW float32, batch and spatial sizes free. */
  inputName: string;
  /** TensorFlow.js node names as asked for; the ONNX outputs carry the same names. */
  outputNames: readonly string[];
}


const FLOAT = 1;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_STRING = 3;
const ATTRIBUTE_INTS = 7;
const OPSET = 13;

interface OnnxNode {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  attribute: object[];
}

interface Initializer {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}

const intAttribute = (name: string, value: number) => ({ name, i: value, type: ATTRIBUTE_INT });
const intsAttribute = (name: string, values: number[]) => ({ name, ints: values, type: ATTRIBUTE_INTS });
const stringAttribute = (name: string, value: string) => ({ name, s: Buffer.from(value), type: ATTRIBUTE_STRING });

/** An attribute's string as TensorFlow.js stores it (base64). */
const decodedString = (node: TfjsNode, key: string) => Buffer.from(node.attr?.[key]?.s ?? '', 'base64').toString();
const decodedStrings = (node: TfjsNode, key: string) => (node.attr?.[key]?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString());

/** IEEE half to single precision. */
function halfToFloat(half: number): number {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >> 10) & 0x1f;
  const fraction = half & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Each weight as float32 (float16-quantised ones widened) or, for int32 ones, as plain numbers. */
function readWeights(specs: readonly TfjsWeightSpec[], data: Uint8Array): Map<string, { shape: number[]; values: Float32Array | Int32Array }> {
  const weights = new Map<string, { shape: number[]; values: Float32Array | Int32Array }>();
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = 0;
  for (const spec of specs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const stored = spec.quantization?.dtype ?? spec.dtype;
    if (stored === 'float16') {
      const values = new Float32Array(count);
      for (let i = 0; i < count; i++) values[i] = halfToFloat(view.getUint16(offset + 2 * i, true));
      weights.set(spec.name, { shape: spec.shape, values });
      offset += 2 * count;
    } else if (stored === 'float32' || stored === 'int32') {
      const values = stored === 'float32' ? new Float32Array(count) : new Int32Array(count);
      for (let i = 0; i < count; i++) values[i] = stored === 'float32' ? view.getFloat32(offset + 4 * i, true) : view.getInt32(offset + 4 * i, true);
      weights.set(spec.name, { shape: spec.shape, values });
      offset += 4 * count;
    } else {
      throw new Error(`weight ${spec.name} is stored as ${stored}, which the ONNX conversion does not read`);
    }
  }
  if (offset !== data.byteLength) throw new Error(`weights take ${offset} bytes, the files hold ${data.byteLength}`);
  return weights;
}

/** A 4-D kernel's values (row-major) with its axes reordered: axis i of the result is axis `order[i]` of the source. */
function transposed(values: Float32Array, shape: readonly number[], order: readonly number[]): { shape: number[]; values: Float32Array } {
  const target = order.map((axis) => shape[axis]!) as [number, number, number, number];
  const sourceStrides = shape.map((_, axis) => shape.slice(axis + 1).reduce((a, b) => a * b, 1));
  const [s0, s1, s2, s3] = order.map((axis) => sourceStrides[axis]!) as [number, number, number, number];
  const out = new Float32Array(values.length);
  let i = 0;
  for (let a = 0; a < target[0]; a++)
    for (let b = 0; b < target[1]; b++)
      for (let c = 0; c < target[2]; c++)
        for (let d = 0; d < target[3]; d++) out[i++] = values[a * s0 + b * s1 + c * s2 + d * s3]!;
  return { shape: target, values: out };
}

/** Where each NHWC axis sits in NCHW (a reduction's axes follow the layout). */
const NHWC_AXIS_IN_NCHW = [0, 2, 3, 1];

/**
 * The graph as an ONNX model with the same weights, taking NCHW input of any batch and size under the
 * placeholder's name and giving `outputNames` (graph nodes) as its outputs; throws on an op it does not convert.
 */
export function convertTfjsGraph(model: TfjsGraphModel, outputNames: readonly string[]): { onnx: Uint8Array; conversion: OnnxConversion } {
  const weights = readWeights(model.weightSpecs, model.weightData);
  const initializers: Initializer[] = [];
  const nodes: OnnxNode[] = [];
  const floatInitializer = (name: string, shape: number[], values: Float32Array) => {
    initializers.push({ name, dims: shape, dataType: FLOAT, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) });
    return name;
  };
  const weight = (name: string) => {
    const found = weights.get(name);
    if (!found) throw new Error(`the graph reads ${name}, which is no weight`);
    return found;
  };
  // Per-channel constants broadcast over NHWC's last axis; in NCHW they must be [C, 1, 1].
  const channelConstant = (name: string) => {
    const { shape, values } = weight(name);
    if (!(values instanceof Float32Array)) throw new Error(`${name} is not a float constant`);
    return floatInitializer(`${name}:nchw`, shape.length === 1 ? [shape[0]!, 1, 1] : shape, values);
  };
  const stridesAndPads = (node: TfjsNode) => {
    const strides = (node.attr?.strides?.list?.i ?? ['1', '1', '1', '1']).map(Number);
    const dilations = (node.attr?.dilations?.list?.i ?? ['1', '1', '1', '1']).map(Number);
    if (decodedString(node, 'data_format') !== 'NHWC') throw new Error(`${node.name}: only NHWC graphs are converted`);
    const padding = decodedString(node, 'padding');
    if (padding !== 'SAME' && padding !== 'VALID') throw new Error(`${node.name}: padding ${padding} is not converted`);
    // TensorFlow's SAME puts the odd pixel of padding at the end, as ONNX's SAME_UPPER.
    return [intsAttribute('strides', [strides[1]!, strides[2]!]), intsAttribute('dilations', [dilations[1]!, dilations[2]!]), stringAttribute('auto_pad', padding === 'SAME' ? 'SAME_UPPER' : 'VALID')];
  };
  let inputName: string | null = null;
  let channels = 0;
  for (const node of model.nodes) {
    const inputs = node.input ?? [];
    const add = (opType: string, input: string[], attribute: object[] = [], output = node.name) => nodes.push({ input, output: [output], name: output, opType, attribute });
    switch (node.op) {
      case 'Const':
        break;
      case 'Placeholder': {
        if (inputName) throw new Error('the graph has more than one input');
        inputName = node.name;
        const dims = node.attr?.shape?.shape?.dim ?? [];
        channels = Number(dims[3]?.size);
        if (dims.length !== 4 || !(channels > 0)) throw new Error('the graph\'s input is not an NHWC image');
        break;
      }
      case 'Conv2D': {
        const kernel = weight(inputs[1]!);
        // HWIO to OIHW.
        const oihw = transposed(kernel.values as Float32Array, kernel.shape, [3, 2, 0, 1]);
        add('Conv', [inputs[0]!, floatInitializer(`${inputs[1]}:oihw`, oihw.shape, oihw.values)], stridesAndPads(node));
        break;
      }
      case 'DepthwiseConv2dNative': {
        const kernel = weight(inputs[1]!);
        const [h, w, c, multiplier] = kernel.shape as [number, number, number, number];
        // [H, W, C, M] to [C * M, 1, H, W], one group per input channel.
        const grouped = transposed(kernel.values as Float32Array, kernel.shape, [2, 3, 0, 1]);
        add('Conv', [inputs[0]!, floatInitializer(`${inputs[1]}:grouped`, [c * multiplier, 1, h, w], grouped.values)], [...stridesAndPads(node), intAttribute('group', c)]);
        break;
      }
      case 'Add':
      case 'Mul':
      case 'Minimum':
      case 'Maximum': {
        const operands = inputs.map((name) => (weights.has(name) ? channelConstant(name) : name));
        add({ Add: 'Add', Mul: 'Mul', Minimum: 'Min', Maximum: 'Max' }[node.op], operands);
        break;
      }
      case 'Relu':
      case 'Sigmoid':
        add(node.op, [inputs[0]!]);
        break;
      case 'Softmax':
        add('Softmax', [inputs[0]!], [intAttribute('axis', -1)]);
        break;
      case 'Mean': {
        const axes = [...(weight(inputs[1]!).values as Int32Array)].map((axis) => NHWC_AXIS_IN_NCHW[axis]!);
        add('ReduceMean', [inputs[0]!], [intsAttribute('axes', axes), intAttribute('keepdims', node.attr?.keep_dims?.b ? 1 : 0)]);
        break;
      }
      case '_FusedMatMul': {
        const fused = decodedStrings(node, 'fused_ops');
        if (node.attr?.transpose_a?.b || node.attr?.transpose_b?.b || fused[0] !== 'BiasAdd' || fused.slice(1).some((op) => op !== 'Relu')) {
          throw new Error(`${node.name}: _FusedMatMul with ${fused.join(', ')} is not converted`);
        }
        const kernel = weight(inputs[1]!);
        const bias = weight(inputs[2]!);
        const gemm = fused.length > 1 ? `${node.name}:gemm` : node.name;
        add('Gemm', [inputs[0]!, floatInitializer(inputs[1]!, kernel.shape, kernel.values as Float32Array), floatInitializer(inputs[2]!, bias.shape, bias.values as Float32Array)], [], gemm);
        if (fused.length > 1) add('Relu', [gemm]);
        break;
      }
      default:
        throw new Error(`${node.name}: op ${node.op} is not converted`);
    }
  }
  if (!inputName) throw new Error('the graph has no input');
  const floatValue = (name: string, dims?: { dimValue?: number; dimParam?: string }[]) => ({ name, type: { tensorType: { elemType: FLOAT, ...(dims ? { shape: { dim: dims } } : {}) } } });
  const message = ModelProto.fromObject({
    irVersion: 7,
    producerName: 'vigil tfjs-to-onnx',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: 'converted',
      node: nodes,
      initializer: initializers,
      input: [floatValue(inputName, [{ dimParam: 'batch' }, { dimValue: channels }, { dimParam: 'height' }, { dimParam: 'width' }])],
      output: outputNames.map((name) => floatValue(name)),
    },
  });
  return { onnx: ModelProto.encode(message).finish(), conversion: { inputName, outputNames } };
}
