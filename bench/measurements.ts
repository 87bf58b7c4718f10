import type {Measurement} from "./lib/measurement.js";
import {batching} from "./measure/batching.js";
import {binaries} from "./measure/binaries.js";
import {bandwidth} from "./measure/bandwidth.js";
import {container} from "./measure/container.js";
import {diskIo} from "./measure/diskIo.js";
import {hygiene} from "./measure/hygiene.js";
import {instantResume} from "./measure/instantResume.js";
import {inProcessAgainstLlamaServer, llamaServer} from "./measure/llamaServer.js";
import {longConversation} from "./measure/longConversation.js";
import {memory} from "./measure/memory.js";
import {overhead} from "./measure/overhead.js";
import {responsiveness} from "./measure/responsiveness.js";
import {thinkingBudget} from "./measure/thinkingBudget.js";
import {threads} from "./measure/threads.js";
import {tools} from "./measure/tools.js";

/**
 * Every row of the table, in the order they run (the ones that say most about speed first, so that a
 * run stopped early has published them). To add one: write bench/measure/NAME.ts exporting a
 * {@link Measurement} (its `run` returns its rows; see bench/README.md) and list it here.
 */
export const measurements: readonly Measurement[] = [
    overhead,
    batching,
    binaries,
    bandwidth,
    threads,
    hygiene,
    memory,
    responsiveness,
    thinkingBudget,
    longConversation,
    instantResume,
    llamaServer,
    inProcessAgainstLlamaServer,
    diskIo,
    tools,
    container
];
