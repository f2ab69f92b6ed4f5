/**
 * The Chain Reactor API's event stream (`GET /v1/events`, Server-Sent Events), which
 * openapi-generator's clients cannot read: they wait for a whole body, and a stream has none.
 *
 * `streamEvents` yields each event of one connection and ends, or throws, when the connection
 * does. Reconnect with the last change's id as `lastEventId` and the service replays what was
 * missed. Every size and wait is bounded: a line over 64 KiB, or 45 s without a byte (the
 * service sends a comment every 15 s), ends the connection with an error.
 */

export interface ChangeData {
  kind: "awarded" | "running" | "terminating" | "terminated" | "failed" | "deposit";
  deployment_id: number;
  state: string;
  block: number;
  block_hash: string;
  provider: string;
}

export interface ResyncData {
  kind: "resync";
  reason: string;
  block: number;
  block_hash: string;
  provider: string;
}

export type StreamItem =
  | { event: "change"; id: string; data: ChangeData }
  | { event: "resync"; data: ResyncData }
  | { event: "keepalive" };

export interface StreamOptions {
  /** The service's base URL, e.g. http://127.0.0.1:8620 */
  baseUrl: string;
  token: string;
  /** The id of the last change handled: the stream resumes after it. */
  lastEventId?: string;
  /** Ends the stream, e.g. on SIGTERM. */
  signal?: AbortSignal;
  idleTimeoutMs?: number;
}

export class StreamError extends Error {
  override name = "StreamError";
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

const MAX_LINE = 64 * 1024;

export async function* streamEvents(options: StreamOptions): AsyncGenerator<StreamItem> {
  const idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
  const controller = new AbortController();
  const abort = () => controller.abort();
  options.signal?.addEventListener("abort", abort, { once: true });
  let idle = setTimeout(abort, idleTimeoutMs);
  const headers: Record<string, string> = { Authorization: `Bearer ${options.token}`, Accept: "text/event-stream" };
  if (options.lastEventId) headers["Last-Event-ID"] = options.lastEventId;
  try {
    const response = await fetch(new URL("/v1/events", options.baseUrl), { headers, signal: controller.signal });
    if (response.status !== 200 || response.body === null) {
      const body = await response.text().catch(() => "");
      let detail = body.slice(0, 500);
      try {
        const problem = JSON.parse(body) as { error?: string; detail?: string };
        detail = `${problem.error}: ${problem.detail}`;
      } catch {
        // not JSON: the start of the body says what happened
      }
      throw new StreamError(`the event stream answered ${response.status}: ${detail}`, response.status);
    }
    const decoder = new TextDecoder();
    let buffer = "";
    let fields: Record<string, string> = {};
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      clearTimeout(idle);
      idle = setTimeout(abort, idleTimeoutMs);
      buffer += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, "");
        buffer = buffer.slice(newline + 1);
        if (line === "") {
          if (fields.data !== undefined) {
            const data = JSON.parse(fields.data);
            if (fields.event === "change" && fields.id) yield { event: "change", id: fields.id, data };
            else if (fields.event === "resync") yield { event: "resync", data };
          }
          fields = {};
        } else if (line.startsWith(":")) {
          yield { event: "keepalive" };
        } else {
          const colon = line.indexOf(":");
          const name = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          fields[name] = name === "data" && fields.data !== undefined ? `${fields.data}\n${value}` : value;
        }
      }
      if (buffer.length > MAX_LINE) throw new StreamError(`an event stream line is over ${MAX_LINE} bytes`);
    }
    throw new StreamError("the event stream ended");
  } catch (error) {
    if (controller.signal.aborted && !options.signal?.aborted) {
      throw new StreamError(`the event stream was silent for ${idleTimeoutMs / 1000} s`);
    }
    throw error;
  } finally {
    clearTimeout(idle);
    options.signal?.removeEventListener("abort", abort);
    controller.abort();
  }
}
