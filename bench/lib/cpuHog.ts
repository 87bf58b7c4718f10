import {spawn} from "node:child_process";

/** A busy background process: one core spinning, as another program on a home server would. */
export type CpuHog = {stop(): Promise<void>};

/**
 * Starts a process that spins one core until it is stopped, or at most `maxMs` (it ends itself,
 * so a bench that dies cannot leave it running).
 */
export function startCpuHog(maxMs: number): CpuHog {
    const child = spawn(process.execPath, ["-e", `const end = Date.now() + ${Math.round(maxMs)}; while (Date.now() < end) {}`], {stdio: "ignore"});
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    return {
        async stop() {
            if (child.exitCode === null && child.signalCode === null)
                child.kill();
            await exited;
        }
    };
}
