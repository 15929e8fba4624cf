/**
 * ONNX models as protocol buffers: the messages Vigil writes (a FaceRes graph converted in tfjs-to-onnx.ts), and
 * how it rewrites a detector's model file before opening it (`detectorGraph`).
 */
import protobuf from 'protobufjs';

/** The parts of onnx.proto (github.com/onnx/onnx, onnx/onnx.proto) Vigil reads and writes, with their field numbers. */
const onnxSchema = protobuf.Root.fromJSON({
  nested: {
    onnx: {
      nested: {
        ModelProto: { fields: { irVersion: { type: 'int64', id: 1 }, producerName: { type: 'string', id: 2 }, graph: { type: 'GraphProto', id: 7 }, opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 } } },
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            type: { type: 'int32', id: 20 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
          },
        },
        ValueInfoProto: { fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 } } },
        TypeProto: { fields: { tensorType: { type: 'TypeProtoTensor', id: 1 } } },
        TypeProtoTensor: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } },
        TensorShapeProto: { fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } } },
        Dimension: { fields: { dimValue: { type: 'int64', id: 1 }, dimParam: { type: 'string', id: 2 } } },
      },
    },
  },
});
export const ModelProto = onnxSchema.lookupType('onnx.ModelProto');
const ValueInfoProto = onnxSchema.lookupType('onnx.ValueInfoProto');

/** Field numbers, in onnx.proto, of ModelProto's graph and of GraphProto's inputs and outputs. */
const MODEL_GRAPH = 7;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
const LENGTH_DELIMITED = 2;

type Dimension = { dimValue?: number; dimParam?: string };

interface ValueInfo {
  name: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: Dimension[] } } };
}

/**
 * A detector's model file as its sessions open it; every byte but the graph's inputs and outputs kept as it is.
 * - Only the image input `inputName` stays a graph input. Older exporters (PaddlePaddle's, for PicoDet) list every
 *   weight and constant as an input too, and onnxruntime then treats them as values a caller could replace: no
 *   pre-packed convolution weights, no constant folding. Without them PicoDet-S runs in two thirds of the time,
 *   its scores the same to 2e-7 and its box logits to 1e-5 (BENCHMARKS "Detection cut by a fifth").
 * - `freeImageSize`: the input's height and width (and the outputs' sizes, which follow them) are set free, for a
 *   fully convolutional detector whose graph computes every reshape from its input, so that a frame runs at its own
 *   aspect ratio instead of letterboxed into the square the file declares.
 */
export function detectorGraph(model: Uint8Array, { inputName, freeImageSize }: { inputName: string; freeImageSize: boolean }): Uint8Array {
  return rewriteMessages(model, MODEL_GRAPH, (graph) => {
    const imageOnly = rewriteMessages(graph, GRAPH_INPUT, (input) => {
      const info = decodeValueInfo(input);
      if (info.name !== inputName) return null;
      return freeImageSize ? withDims(info, (dims) => dims.map((dim, axis) => (axis >= 2 ? { dimParam: `${info.name}_${axis === 2 ? 'height' : 'width'}` } : dim))) : input;
    });
    if (!freeImageSize) return imageOnly;
    return rewriteMessages(imageOnly, GRAPH_OUTPUT, (output) => {
      const info = decodeValueInfo(output);
      return withDims(info, (dims) => dims.map((_, axis) => ({ dimParam: `${info.name}_${axis}` })));
    });
  });
}

const decodeValueInfo = (bytes: Uint8Array) => ValueInfoProto.toObject(ValueInfoProto.decode(bytes), { longs: Number }) as ValueInfo;

function withDims(info: ValueInfo, dims: (dims: Dimension[]) => Dimension[]): Uint8Array {
  const shape = info.type?.tensorType?.shape;
  if (shape?.dim) shape.dim = dims(shape.dim);
  return ValueInfoProto.encode(ValueInfoProto.fromObject(info)).finish();
}

/**
 * `message` with each occurrence of the embedded message `field` replaced by what `rewrite` makes of it (null:
 * left out), the rest byte for byte.
 */
function rewriteMessages(message: Uint8Array, field: number, rewrite: (embedded: Uint8Array) => Uint8Array | null): Uint8Array {
  const reader = protobuf.Reader.create(message);
  const parts: Uint8Array[] = [];
  let copiedTo = 0;
  while (reader.pos < reader.len) {
    const tagAt = reader.pos;
    const tag = reader.uint32();
    if (tag >>> 3 === field && (tag & 7) === LENGTH_DELIMITED) {
      const rewritten = rewrite(reader.bytes());
      parts.push(message.subarray(copiedTo, tagAt));
      if (rewritten) parts.push(protobuf.Writer.create().uint32(tag).bytes(rewritten).finish());
      copiedTo = reader.pos;
    } else {
      reader.skipType(tag & 7);
    }
  }
  parts.push(message.subarray(copiedTo));
  return Buffer.concat(parts);
}
