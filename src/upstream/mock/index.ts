/**
 * The ChatGPT-backend simulator (DESIGN.md §6): a faithful stand-in for
 * chatgpt.com/backend-api, auth.openai.com and api.openai.com/v1/responses.
 */
export { createSimulator } from './server';
export { mockPng } from './png';
export { DEFAULT_MODELS } from './catalog';
export { CODEX_CLIENT_ID } from './accounts';
export { UNSUPPORTED_PARAMETERS } from './rules';
export type {
  CodexAuthJson,
  CustomToolCallScenario,
  DropMidStreamScenario,
  EventsScenario,
  FailMidStreamScenario,
  FunctionCallScenario,
  HttpErrorScenario,
  IssueAccountOptions,
  IssuedAccount,
  ManyEventsScenario,
  RecordedRequest,
  RunningSimulator,
  Scenario,
  SilenceScenario,
  Simulator,
  SimulatorOptions,
  SimulatorStats,
  StartOptions,
  TextScenario,
  UsageLimitScenario,
} from './types';
