import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {buildProjectImage, containerLogs, docker} from "../../test/fixtures/container/docker.js";
import {freePort} from "../../test/fixtures/freePort.js";
import {startFakeDiscord} from "../../test/fixtures/fakeDiscord.js";
import {fixed} from "../lib/format.js";
import {progress} from "../lib/logger.js";
import type {Measurement} from "../lib/measurement.js";
import {tinyModel} from "../lib/models.js";
import {projectRoot} from "../lib/paths.js";
import {exactly} from "../lib/row.js";
import {bootstrapMedian, max} from "../lib/stats.js";
import type {Estimate} from "../lib/stats.js";

export type ContainerResult = {
    readonly image: string;
    /** `docker build` of the real Dockerfile, base image included (fast when Docker's layer cache holds it). */
    readonly buildSeconds: number;
    /** What `docker image inspect` calls the image's size, in bytes (`docker images` shows it in MB of 10^6). */
    readonly imageBytes: number;
    /** Per round: `docker run` to the gateway identified and the slash commands registered. */
    readonly readyMs: readonly number[];
    readonly readySeconds: Estimate;
};

const image = "llama-discord-bot:bench";
/** A start that takes longer than this has failed. */
const readyTimeoutMs = 120_000;

export const container: Measurement = {
    name: "container",
    async run({settings}) {
        const result = await measureContainer(settings.rounds);
        return {raw: result, rows: [
            {
                number: "14",
                what: "the container image (the Dockerfile, CPU), as `docker images` shows it (MB)",
                bot: `${fixed(result.imageBytes / 1e6, 0)} MB`,
                reference: "",
                estimate: exactly(result.imageBytes / 1e6),
                verdict: "none"
            },
            {
                number: "14",
                what: `the container, \`docker run\` to the bot ready on Discord (gateway identified, commands registered), the tests' tiny model (median of ${result.readyMs.length}, s)`,
                bot: `max ${fixed(max(result.readyMs) / 1000, 1)} s`,
                reference: "",
                estimate: result.readySeconds,
                verdict: "none"
            }
        ]};
    }
};

/**
 * 14. The image the Dockerfile builds (on the tests' base image, test/fixtures/container) and, round
 * after round, a fresh container of it started against a fresh fake Discord on the host's network:
 * the time from `docker run` to the bot ready, as a user's `docker compose up` sees it.
 */
export async function measureContainer(rounds: number): Promise<ContainerResult> {
    progress(`container: building ${image} (the base image once per machine, minutes; then Docker's layer cache)`);
    const buildStartedAt = performance.now();
    await buildProjectImage(image, projectRoot);
    const buildSeconds = (performance.now() - buildStartedAt) / 1000;
    const imageBytes = Number(await docker("image", "inspect", "--format", "{{.Size}}", image));
    progress(`container: built in ${fixed(buildSeconds, 0)} s, ${fixed(imageBytes / 1e6, 0)} MB`);

    const modelFile = await tinyModel();
    const folder = await fs.mkdtemp(path.join(os.tmpdir(), "bench-container-"));
    try {
        const readyMs: number[] = [];
        for (let round = 1; round <= rounds; round++) {
            const ms = await timeStart(modelFile, folder, round);
            readyMs.push(ms);
            progress(`container: round ${round}: ready ${fixed(ms / 1000, 2)} s after docker run`);
        }
        return {image, buildSeconds, imageBytes, readyMs, readySeconds: bootstrapMedian(readyMs.map((ms) => ms / 1000))};
    } finally {
        await fs.rm(folder, {recursive: true, force: true});
    }
}

async function timeStart(modelFile: string, folder: string, round: number): Promise<number> {
    const discord = await startFakeDiscord();
    const name = `llama-discord-bot-bench-${process.pid}-${round}`;
    // the settings in an env file, as compose passes .env: the token never shows on a command line
    const envFile = path.join(folder, `bot-${round}.env`);
    await fs.writeFile(envFile, [
        `DISCORD_TOKEN=${discord.token}`,
        `DISCORD_API_URL=${discord.apiUrl}`,
        "MODEL=/app/models/tiny.gguf",
        "GPU_LAYERS=0",
        "THREADS=1",
        "CONTEXT_SIZE=4096",
        // the image's /healthz port, moved off 9464: other processes may share this host's network
        `METRICS_PORT=${await freePort()}`
    ].join("\n") + "\n", {mode: 0o600});
    try {
        const startedAt = performance.now();
        await docker("run", "--detach", "--name", name, "--network=host", "--env-file", envFile,
            "--volume", `${modelFile}:/app/models/tiny.gguf:ro`, image);
        await discord.waitFor(() => discord.stats.identifies > 0 && discord.registeredCommands().length > 0, readyTimeoutMs)
            .catch(async (error: unknown) => {
                throw new Error(`the container was not ready: ${String(error)}\n${await containerLogs(name).catch(String)}`);
            });
        return performance.now() - startedAt;
    } finally {
        // --volumes: the anonymous volume the image's VOLUME /app/data made
        await docker("rm", "--force", "--volumes", name).catch(() => undefined);
        await discord.close();
    }
}
