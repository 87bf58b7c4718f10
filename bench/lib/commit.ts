import {execFileSync} from "node:child_process";
import {projectRoot} from "./paths.js";

/** Files the bench writes itself: their changes do not make the measured code differ from the commit. */
const benchOutputs = [/^bench\/results\//, /^docs\/bench-throughput/, /^docs\/performance\.md$/];

/** The commit being measured, and whether other files differ from it (then the header says so). */
export function measuredCommit(): {hash: string, dirty: boolean} {
    const git = (...args: string[]) => execFileSync("git", args, {cwd: projectRoot, encoding: "utf8"}).trim();
    try {
        const hash = git("rev-parse", "HEAD");
        const changed = git("status", "--porcelain").split("\n").filter((line) => line.trim() !== "").map((line) => line.slice(3));
        return {hash, dirty: changed.some((file) => !benchOutputs.some((output) => output.test(file)))};
    } catch {
        return {hash: "unknown (not a git checkout)", dirty: true};
    }
}
