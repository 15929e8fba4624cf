import { createRequire } from 'node:module';
import proto from '@temporalio/proto';

type History = proto.temporal.api.history.v1.IHistory;

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }): unknown;
}

/*
 * A workflow history as proto JSON, the form of `temporal workflow show --output json` and of the SDK's
 * `historyToJSON`. The SDK's own helpers (@temporalio/common/lib/proto-utils) fail here with "type must
 * be a Type": they format with @temporalio/common's copy of protobufjs, which does not recognise the types
 * of @temporalio/proto's copy, and npm installs two copies because grpc-js holds protobufjs 7 at the top.
 * This formats with the protobufjs that @temporalio/proto itself loads, whichever copy that is.
 */
const protoJson = createRequire(createRequire(import.meta.url).resolve('@temporalio/proto'))('protobufjs/ext/protojson') as ProtoJson;
const historyType = (proto as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');

export function historyToJson(history: History): string {
  return JSON.stringify(protoJson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)), null, 2);
}

/** A history as `Worker.runReplayHistories` takes it; fields a newer server added are ignored. */
export function historyFromJson(json: string): History {
  return protoJson.fromJson(historyType, JSON.parse(json), { ignoreUnknownFields: true }) as History;
}
