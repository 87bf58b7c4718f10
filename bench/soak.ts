/**
 * The full soak (`npm run soak`): 2,000 prompts across 300 channels with SEQUENCES=4, so conversations
 * give their sequence up and get it back all the time. Prints the numbers and every broken promise;
 * exits 1 if any. Override with SOAK_PROMPTS, SOAK_CHANNELS, SOAK_SEQUENCES, SOAK_CONCURRENCY, SOAK_MAX_TOKENS,
 * SOAK_CONTEXT_SIZE.
 */
import {formatSoak, runSoak, soakProblems} from "../test/fixtures/soak.js";

function setting(name: string, fallback: number): number {
    const raw = process.env[name];
    if (raw == null || raw === "")
        return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0)
        throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
    return value;
}

const result = await runSoak({
    prompts: setting("SOAK_PROMPTS", 2000),
    channels: setting("SOAK_CHANNELS", 300),
    sequences: setting("SOAK_SEQUENCES", 4),
    concurrency: setting("SOAK_CONCURRENCY", 8),
    maxTokens: setting("SOAK_MAX_TOKENS", 16),
    contextSize: setting("SOAK_CONTEXT_SIZE", 512),
    idleCheckEvery: 200,
    onProgress: (line) => console.log(line)
});

console.log(formatSoak(result));
const problems = soakProblems(result);
if (problems.length === 0)
    console.log("soak: every check held");
else {
    console.log(`soak: ${problems.length} problem(s):`);
    for (const problem of problems)
        console.log(`  - ${problem}`);
    process.exitCode = 1;
}
