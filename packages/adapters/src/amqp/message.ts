import type { ConsumeMessage, Options } from "amqplib";
import { coerceError } from "@quiesce/sdk";
import { decodeJson, type AmqpMessageInfo } from "./options.js";

/**
 * The attempt a message is on, carried by the message itself: classic queues count nothing, so
 * a failure under the limit republishes the message with this raised. Releases (nack with
 * requeue) leave it alone, so a drain or a deadline costs no attempt.
 */
export const attemptHeader = "x-quiesce-attempt";

/** What one consumed message says about itself. */
export interface MessageFacts {
  readonly id: string;
  readonly attempt: number;
  /** Quorum queues: how many times the broker handed this message out before (returns, lost consumers). */
  readonly deliveryCount: number | undefined;
  readonly payload: unknown;
  readonly decodeError: Error | undefined;
}

export function readMessage(message: ConsumeMessage, queue: string, fallbackId: () => string, decode: (content: Buffer, info: AmqpMessageInfo) => unknown): MessageFacts {
  const { properties } = message;
  const headers = (properties.headers ?? {}) as Record<string, unknown>;
  const id = typeof properties.messageId === "string" && properties.messageId.length > 0 ? properties.messageId : fallbackId();
  const attempt = positiveInteger(headers[attemptHeader]) ?? 1;
  const deliveryCount = positiveInteger(headers["x-delivery-count"]);
  let payload: unknown;
  let decodeError: Error | undefined;
  try {
    // The default decoder reads the body only: no info object per message for it.
    payload = decode === decodeJson ? decodeJson(message.content) : decode(message.content, { contentType: properties.contentType as string | undefined, contentEncoding: properties.contentEncoding as string | undefined, headers });
  } catch (thrown) {
    const reason = thrown instanceof SyntaxError ? `its body is not valid JSON (${thrown.message})` : `decode threw: ${coerceError(thrown).message}`;
    decodeError = new Error(`RabbitMQ message ${id} on queue "${queue}" cannot be decoded: ${reason}; dead-lettered without running the handler`, { cause: thrown });
  }
  return { id, attempt, deliveryCount, payload, decodeError };
}

/**
 * The properties of the retry copy: everything the producer set, the id (made explicit, so
 * every attempt has the same one) and the attempt raised. The broker's own headers describe the
 * old copy's deliveries and would mislead on the new one; `userId` is left out because the broker
 * refuses a publish whose userId is not the publishing connection's user.
 */
export function retryProperties(message: ConsumeMessage, id: string, attempt: number): Options.Publish {
  const p = message.properties;
  const headers: Record<string, unknown> = { ...(p.headers as Record<string, unknown> | undefined) };
  delete headers["x-delivery-count"];
  delete headers["x-death"];
  delete headers["x-first-death-exchange"];
  delete headers["x-first-death-queue"];
  delete headers["x-first-death-reason"];
  headers[attemptHeader] = attempt;
  const options: Options.Publish = { headers, messageId: id, persistent: p.deliveryMode === 2 };
  if (p.contentType !== undefined) options.contentType = p.contentType as string;
  if (p.contentEncoding !== undefined) options.contentEncoding = p.contentEncoding as string;
  if (p.correlationId !== undefined) options.correlationId = p.correlationId as string;
  if (p.replyTo !== undefined) options.replyTo = p.replyTo as string;
  if (p.expiration !== undefined) options.expiration = p.expiration as string;
  if (p.timestamp !== undefined) options.timestamp = p.timestamp as number;
  if (p.type !== undefined) options.type = p.type as string;
  if (p.appId !== undefined) options.appId = p.appId as string;
  if (p.priority !== undefined) options.priority = p.priority as number;
  return options;
}

function positiveInteger(value: unknown): number | undefined {
  const n = typeof value === "number" ? value : typeof value === "bigint" ? Number(value) : typeof value === "string" ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}
