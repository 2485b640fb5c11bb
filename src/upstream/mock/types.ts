/**
 * Public contract of the ChatGPT-backend simulator. Other modules and tests build
 * against exactly these shapes, so they change only with the lead's agreement.
 */

export interface SimulatorOptions {
  /** Plan of accounts created without an explicit plan (issueAccount, device login). Default `plus`. */
  plan?: string;
  /** Model slugs the backend accepts and lists. Default: DEFAULT_MODELS. */
  models?: string[];
  /**
   * During a `silence` stall, send an SSE comment (`: keepalive`) this often.
   * Unset means a truly silent connection, which is what idle-timeout tests need.
   */
  silenceKeepaliveMs?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The JSON body (after zstd decoding), or null when the body is empty or not JSON. */
  body: unknown;
  rawBody: string;
  at: number;
}

export interface IssuedAccount {
  accountId: string;
  plan: string;
  email: string;
  idToken: string;
  accessToken: string;
  refreshToken: string;
  /** Exactly the Codex CLI `auth.json` shape (protocol §4.1). */
  authJson: CodexAuthJson;
}

export interface CodexAuthJson {
  auth_mode: 'chatgpt';
  OPENAI_API_KEY: null;
  tokens: { id_token: string; access_token: string; refresh_token: string; account_id: string };
  last_refresh: string;
}

export interface IssueAccountOptions {
  accountId?: string;
  plan?: string;
  email?: string;
  /** Lifetime of the access token; zero or negative issues an already expired token. */
  accessTtlSeconds?: number;
}

export interface EventsScenario {
  kind: 'events';
  events: object[];
  delayMs?: number;
  status?: number;
  headers?: Record<string, string>;
}
export interface TextScenario {
  kind: 'text';
  text: string;
  reasoning?: string;
  chunkSize?: number;
  delayMs?: number;
}
export interface FunctionCallScenario {
  kind: 'function_call';
  name: string;
  arguments: string;
  text?: string;
  /** Default true; false sends only output_item.added/done, as some upstream paths do. */
  argumentDeltas?: boolean;
}
export interface CustomToolCallScenario {
  kind: 'custom_tool_call';
  name: string;
  input: string;
}
export interface HttpErrorScenario {
  kind: 'http_error';
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}
export interface UsageLimitScenario {
  kind: 'usage_limit';
  resetsInSeconds: number;
  plan?: string;
}
export interface FailMidStreamScenario {
  kind: 'fail_mid_stream';
  afterEvents: number;
  code?: string;
  message?: string;
}
export interface DropMidStreamScenario {
  kind: 'drop_mid_stream';
  afterEvents: number;
}
export interface SilenceScenario {
  kind: 'silence';
  afterEvents: number;
  ms: number;
}
export interface ManyEventsScenario {
  kind: 'many_events';
  deltas: number;
  intervalMs?: number;
}

export type Scenario =
  | EventsScenario
  | TextScenario
  | FunctionCallScenario
  | CustomToolCallScenario
  | HttpErrorScenario
  | UsageLimitScenario
  | FailMidStreamScenario
  | DropMidStreamScenario
  | SilenceScenario
  | ManyEventsScenario;

export interface StartOptions {
  port?: number;
  hostname?: string;
}

export interface RunningSimulator {
  /** e.g. `http://127.0.0.1:41234`, no trailing slash. */
  url: string;
  stop(): Promise<void>;
}

export interface SimulatorStats {
  /** Every POST /oauth/token, whatever its outcome. */
  tokenRequests: number;
  /** Responses requests that passed auth and validation and were answered by a scenario or the model. */
  responses: number;
}

export interface Simulator {
  fetch(req: Request): Promise<Response>;
  start(opts?: StartOptions): Promise<RunningSimulator>;
  issueAccount(opts?: IssueAccountOptions): IssuedAccount;
  enqueue(...scenarios: Scenario[]): void;
  setDefault(scenario: Scenario | null): void;
  /** Next answers of the authenticated /backend-api/files routes. */
  enqueueFiles(...scenarios: HttpErrorScenario[]): void;
  /** Next answers of /backend-api/transcribe. */
  enqueueTranscribe(...scenarios: HttpErrorScenario[]): void;
  readonly requests: RecordedRequest[];
  readonly aborts: { path: string; at: number }[];
  readonly refreshCount: number;
  readonly stats: SimulatorStats;
  approveDevice(userCode: string): void;
  reset(): void;
}
