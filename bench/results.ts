import type {MachineDescription} from "./lib/machine.js";
import type {BatchingResult} from "./measure/batching.js";
import type {HygieneResult} from "./measure/hygiene.js";
import type {InstantResumeResult} from "./measure/instantResume.js";
import type {LlamaServerResult} from "./measure/llamaServer.js";
import type {LongConversationResult} from "./measure/longConversation.js";
import type {MemoryResult} from "./measure/memory.js";
import type {OverheadResult} from "./measure/overhead.js";
import type {ResponsivenessResult} from "./measure/responsiveness.js";
import type {ThreadsResult} from "./measure/threads.js";

/** Everything one run of the bench measured: what bench/results/latest.json holds. */
export type BenchResults = {
    readonly startedAt: string;
    durationSeconds: number;
    readonly machine: MachineDescription;
    readonly settings: {
        readonly threads: number;
        readonly gpuLayers: string;
        readonly quick: boolean;
        readonly benchModel: string;
    };
    overhead?: OverheadResult;
    batching?: BatchingResult;
    longConversation?: LongConversationResult;
    responsiveness?: ResponsivenessResult;
    hygiene?: HygieneResult;
    threads?: ThreadsResult;
    memory?: MemoryResult;
    instantResume?: InstantResumeResult;
    llamaServer?: LlamaServerResult;
    /** Measurements that failed, with why. */
    readonly failures: {measurement: string, error: string}[];
};
