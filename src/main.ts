#!/usr/bin/env bun
/** Entry point of the codexin command (src/cli/run.ts dispatches the commands). */
import { runMain } from './cli/run';

runMain(process.argv.slice(2));
