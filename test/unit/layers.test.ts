import fs from "node:fs";
import path from "node:path";
import {describe, expect, it} from "vitest";
import {projectRoot} from "../fixtures/botProcess.js";

/** Every module a source folder imports, as "file: module". */
function importsOf(folder: string): string[] {
    const directory = path.join(projectRoot, "src", folder);
    return fs.readdirSync(directory, {recursive: true, encoding: "utf8"})
        .filter((file) => file.endsWith(".ts"))
        .flatMap((file) => [...fs.readFileSync(path.join(directory, file), "utf8").matchAll(/^import\s[^;]*?from\s+"([^"]+)"/gm)]
            .map((match) => `${folder}/${file}: ${match[1]}`));
}

/**
 * Every import between the files of src/, as "importer -> imported" (paths from src/): static imports,
 * type-only ones and re-exports included, and dynamic imports of a fixed path.
 */
function importGraph(): Map<string, string[]> {
    const source = path.join(projectRoot, "src");
    const files = fs.readdirSync(source, {recursive: true, encoding: "utf8"}).filter((file) => /\.c?ts$/.test(file)).map((file) => file.split(path.sep).join("/"));
    const known = new Set(files);
    const statement = /^\s*(?:import|export)\s+(?:type\s+)?(?:[\w$]+\s*,\s*)?(?:\{[^}]*\}|\*(?:\s+as\s+[\w$]+)?|[\w$]+)\s+from\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm;
    return new Map(files.map((file) => {
        const text = fs.readFileSync(path.join(source, file), "utf8");
        const imported = [...text.matchAll(statement)]
            .map((match) => match[1] ?? match[2] ?? match[3] ?? "")
            .filter((specifier) => specifier.startsWith("."))
            .map((specifier) => path.posix.join(path.posix.dirname(file), specifier).replace(/\.(c|m)?js$/, ".$1ts"))
            .filter((target) => known.has(target));
        return [file, [...new Set(imported)]];
    }));
}

/** One circle through each knot of the graph (a strongly connected part of more than one file, or a file importing itself), as "a -> b -> a". */
function importCircles(graph: ReadonlyMap<string, readonly string[]>): string[] {
    const index = new Map<string, number>();
    const lowest = new Map<string, number>();
    const stack: string[] = [];
    const knots: string[][] = [];
    const visit = (file: string): void => {
        index.set(file, index.size);
        lowest.set(file, index.get(file)!);
        stack.push(file);
        for (const next of graph.get(file) ?? []) {
            if (!index.has(next)) {
                visit(next);
                lowest.set(file, Math.min(lowest.get(file)!, lowest.get(next)!));
            } else if (stack.includes(next))
                lowest.set(file, Math.min(lowest.get(file)!, index.get(next)!));
        }
        if (lowest.get(file) !== index.get(file))
            return;
        const knot: string[] = [];
        let member: string | undefined;
        do {
            member = stack.pop()!;
            knot.push(member);
        } while (member !== file);
        if (knot.length > 1 || graph.get(file)?.includes(file) === true)
            knots.push(knot);
    };
    for (const file of [...graph.keys()].sort())
        if (!index.has(file))
            visit(file);

    // the shortest way from a knot's first file back to itself, within the knot
    return knots.map((knot) => {
        const start = [...knot].sort()[0]!;
        const cameFrom = new Map<string, string>();
        const queue = [start];
        while (queue.length > 0) {
            const file = queue.shift()!;
            for (const next of graph.get(file) ?? []) {
                if (!knot.includes(next) || cameFrom.has(next))
                    continue;
                cameFrom.set(next, file);
                if (next === start)
                    break;
                queue.push(next);
            }
            if (cameFrom.has(start))
                break;
        }
        const between: string[] = [];
        for (let file = cameFrom.get(start)!; file !== start; file = cameFrom.get(file)!)
            between.unshift(file);
        return [start, ...between, start].join(" -> ");
    });
}

/** The modules one source file (relative to src/) imports statically, each marked when only its types are (they vanish at compile time). */
function importsOfFile(file: string): {module: string, typeOnly: boolean}[] {
    return [...fs.readFileSync(path.join(projectRoot, "src", file), "utf8").matchAll(/^import\s(type\s)?[^;]*?from\s+"([^"]+)"/gm)]
        .map((match) => ({module: match[2]!, typeOnly: match[1] != null}));
}

/** Every source file a file loads at run time through static imports, itself included (relative to src/). */
function staticGraphOf(file: string, seen = new Set<string>()): Set<string> {
    seen.add(file);
    for (const {module, typeOnly} of importsOfFile(file))
        if (!typeOnly && module.startsWith(".")) {
            const imported = path.posix.join(path.posix.dirname(file), module).replace(/\.js$/, ".ts");
            if (!seen.has(imported))
                staticGraphOf(imported, seen);
        }
    return seen;
}

describe("the layers", () => {
    it("given the chat layer, then it imports neither discord.js nor node-llama-cpp, nor the Discord layer", () => {
        expect(importsOf("chat")).toContain("chat/ChatService.ts: p-queue");
        expect(importsOf("chat").filter((entry) => /: (discord\.js|@discordjs|node-llama-cpp)|\/discord\//.test(entry))).toEqual([]);
    });

    it("given the llm and store layers, then they know nothing of Discord or the chat layer above them", () => {
        const entries = [...importsOf("llm"), ...importsOf("store")];
        expect(entries.filter((entry) => /: (discord\.js|@discordjs)|\/(discord|chat)\//.test(entry))).toEqual([]);
    });

    it("given the Discord layer, then node-llama-cpp stays out of it", () => {
        expect(importsOf("discord")).toContain("discord/DiscordBot.ts: discord.js");
        expect(importsOf("discord").filter((entry) => /: node-llama-cpp|\/llm\/(?!types)/.test(entry))).toEqual([]);
    });

    it("given the tools room, then it knows nothing of Discord, the chat layer or node-llama-cpp, and of the engines only their types", () => {
        expect(importsOf("tools")).toContain("tools/connectMcpServer.ts: @modelcontextprotocol/sdk/client/index.js");
        expect(importsOf("tools").filter((entry) => /: (discord\.js|@discordjs|node-llama-cpp)|\/(discord|chat|runtime)\/|\/llm\/(?!types\.js)/.test(entry))).toEqual([]);
    });

    it("given the chat and Discord layers, then of the tools they know only the catalog's types: nothing that starts or reaches a server", () => {
        const files = ["chat", "discord"].flatMap((folder) => fs.readdirSync(path.join(projectRoot, "src", folder), {recursive: true, encoding: "utf8"})
            .filter((file) => file.endsWith(".ts")).map((file) => `${folder}/${file}`));
        const toolImports = files.flatMap((file) => importsOfFile(file).filter(({module}) => /\/tools\/|@modelcontextprotocol/.test(module))
            .map(({module, typeOnly}) => `${file}: ${typeOnly ? "type " : ""}${module}`));
        expect(toolImports).toContain("chat/createTurnTools.ts: type ../tools/ToolCatalog.js");
        expect(toolImports.filter((entry) => !/: type (\.\.\/)+tools\/ToolCatalog\.js$/.test(entry))).toEqual([]);
    });

    it("given the reply's layout, then it is pure text and page layout: nothing of ours from outside its folder", () => {
        expect(importsOf("discord/reply/layout")).toContain("discord/reply/layout/replyLayout.ts: ./splitMessage.js");
        expect(importsOf("discord/reply/layout").filter((entry) => /: \.\.\//.test(entry))).toEqual([]);
    });

    it("given every file of src/, then no import circle runs through them, type-only imports included", () => {
        const graph = importGraph();
        expect(graph.get("discord/DiscordBot.ts")).toContain("discord/BotContext.ts");
        expect(importCircles(graph)).toEqual([]);
    });

    it("given config.ts, the ground floor, then it imports nothing of ours above it: only utils/ and the logger's types", () => {
        const ours = importsOfFile("config.ts").filter(({module}) => module.startsWith("."));
        expect(ours.length).toBeGreaterThan(0);
        expect(ours.filter(({module, typeOnly}) => !(module.startsWith("./utils/") || (module === "./logger.js" && typeOnly)))).toEqual([]);
    });

    it("given the logger, then it knows nothing of the settings", () => {
        expect(importsOfFile("logger.ts").filter(({module}) => module === "./config.js")).toEqual([]);
    });

    it("given the llm and store layers, then they take only types from config.ts, never its values", () => {
        const files = ["llm", "store"].flatMap((folder) => fs.readdirSync(path.join(projectRoot, "src", folder), {recursive: true, encoding: "utf8"})
            .filter((file) => file.endsWith(".ts")).map((file) => `${folder}/${file}`));
        expect(files).toContain("llm/local/LlamaEngine.ts");
        expect(files.flatMap((file) => importsOfFile(file).filter(({module, typeOnly}) => module.endsWith("/config.js") && !typeOnly).map(({module}) => `${file}: ${module}`)))
            .toEqual([]);
    });

    it("given the remote runtime, then nothing it loads imports node-llama-cpp's values (only the local runtime does, imported on demand)", () => {
        const graph = staticGraphOf("runtime/startChatRuntime.ts");
        expect(graph).toContain("llm/openai/OpenAiEngine.ts");
        expect(graph).not.toContain("runtime/LocalChatRuntime.ts");
        expect([...graph].filter((file) => importsOfFile(file).some(({module, typeOnly}) => module === "node-llama-cpp" && !typeOnly))).toEqual([]);
    });

    it("given the monitoring room, then nothing below it knows it, and nothing it loads imports node-llama-cpp's values (it runs beside either engine)", () => {
        const below = ["chat", "llm", "store", "discord", "runtime", "utils"].flatMap((folder) => importsOf(folder));
        expect(below.filter((entry) => /\/monitoring\//.test(entry))).toEqual([]);
        const graph = new Set(fs.readdirSync(path.join(projectRoot, "src", "monitoring")).flatMap((file) => [...staticGraphOf(`monitoring/${file}`)]));
        expect(graph).toContain("llm/local/stateFileEvents.ts");
        expect([...graph].filter((file) => importsOfFile(file).some(({module, typeOnly}) => module === "node-llama-cpp" && !typeOnly))).toEqual([]);
    });

    it("given node-llama-cpp, then its values are imported in the local engine's folder only (elsewhere its types at most)", () => {
        const files = fs.readdirSync(path.join(projectRoot, "src"), {recursive: true, encoding: "utf8"}).filter((file) => file.endsWith(".ts"));
        const importers = files.filter((file) => importsOfFile(file).some(({module, typeOnly}) => module === "node-llama-cpp" && !typeOnly));
        expect(importers).toContain("llm/local/SessionPool.ts");
        expect(importers.filter((file) => !file.startsWith("llm/local/"))).toEqual([]);
    });
});
