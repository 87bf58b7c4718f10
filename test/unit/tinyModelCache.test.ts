import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {fileURLToPath} from "node:url";
import {afterAll, describe, expect, it} from "vitest";
import {tinyModelCachePath} from "../fixtures/tinyModel.js";

const generatorFile = fileURLToPath(new URL("../fixtures/tinyModel.ts", import.meta.url));

describe("the tiny model cache", () => {
    const copies = path.join(os.tmpdir(), `tiny-model-generator-${process.pid}`);
    afterAll(() => fs.rm(copies, {recursive: true, force: true}));

    /** `tinyModelCachePath` of a copy of the generator, with `change` applied to its source. */
    async function cachePathOfCopy(name: string, change: (source: string) => string): Promise<string> {
        await fs.mkdir(copies, {recursive: true});
        const copy = path.join(copies, `${name}.ts`);
        await fs.writeFile(copy, change(await fs.readFile(generatorFile, "utf8")));
        const generator = await import(copy) as {tinyModelCachePath: typeof tinyModelCachePath};
        return generator.tinyModelCachePath({layers: 3});
    }

    it("given the same generator, then the same options find the same file", async () => {
        expect(await cachePathOfCopy("same", (source) => source)).toBe(tinyModelCachePath({layers: 3}));
    });

    it("given a changed generator, then the same options never find a model the old one wrote", async () => {
        const changed = await cachePathOfCopy("changed", (source) => source.replace("const q8Block", "// a new way to write weights\nconst q8Block"));
        expect(changed).not.toBe(tinyModelCachePath({layers: 3}));
        expect(path.dirname(changed)).toBe(path.dirname(tinyModelCachePath({layers: 3})));
    });
});
