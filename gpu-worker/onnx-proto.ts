/**
 * ONNX models as protocol buffers: the messages Vigil writes (a FaceRes graph converted in tfjs-to-onnx.ts) and
 * the one rewrite it makes of a model file it is given (the image size of a fully convolutional detector set free).
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

interface ValueInfo {
  name: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: { dimValue?: number; dimParam?: string }[] } } };
}

/**
 * A model whose file declares a fixed NCHW input size, opened with its height and width free (and its outputs'
 * sizes, which follow them): for a fully convolutional detector, whose graph computes every reshape from its
 * input, so a frame can be run at its own aspect ratio instead of letterboxed into the declared square.
 * Only the graph's inputs and outputs are rewritten; every other byte of the file is kept as it is.
 */
export function withFreeImageSize(model: Uint8Array): Uint8Array {
  return rewriteMessages(model, MODEL_GRAPH, (graph) => {
    const freed = rewriteMessages(graph, GRAPH_INPUT, (input) =>
      rewriteValueInfo(input, (dims, name) => dims.map((dim, axis) => (axis >= 2 ? { dimParam: `${name}_${axis === 2 ? 'height' : 'width'}` } : dim))),
    );
    return rewriteMessages(freed, GRAPH_OUTPUT, (output) => rewriteValueInfo(output, (dims, name) => dims.map((_, axis) => ({ dimParam: `${name}_${axis}` }))));
  });
}

function rewriteValueInfo(bytes: Uint8Array, dims: (dims: { dimValue?: number; dimParam?: string }[], name: string) => { dimValue?: number; dimParam?: string }[]): Uint8Array {
  const info = ValueInfoProto.toObject(ValueInfoProto.decode(bytes), { longs: Number }) as ValueInfo;
  const shape = info.type?.tensorType?.shape;
  if (shape?.dim) shape.dim = dims(shape.dim, info.name);
  return ValueInfoProto.encode(ValueInfoProto.fromObject(info)).finish();
}

/** `message` with each occurrence of the embedded message `field` replaced by what `rewrite` makes of it, the rest byte for byte. */
function rewriteMessages(message: Uint8Array, field: number, rewrite: (embedded: Uint8Array) => Uint8Array): Uint8Array {
  const reader = protobuf.Reader.create(message);
  const parts: Uint8Array[] = [];
  let copiedTo = 0;
  while (reader.pos < reader.len) {
    const tagAt = reader.pos;
    const tag = reader.uint32();
    if (tag >>> 3 === field && (tag & 7) === LENGTH_DELIMITED) {
      const embedded = reader.bytes();
      parts.push(message.subarray(copiedTo, tagAt), protobuf.Writer.create().uint32(tag).bytes(rewrite(embedded)).finish());
      copiedTo = reader.pos;
    } else {
      reader.skipType(tag & 7);
    }
  }
  parts.push(message.subarray(copiedTo));
  return Buffer.concat(parts);
}
