import {describe, expect, it} from "vitest";
import {assignToolNames} from "../../src/tools/toolNames.js";
import {toolResultText} from "../../src/tools/toolResultText.js";

describe("assignToolNames", () => {
    it("given tools with different names, then the model sees their own names", () => {
        const {names, dropped} = assignToolNames([{server: "a", tools: ["echo", "sum"]}, {server: "b", tools: ["read_graph"]}]);
        expect([...names]).toEqual([
            ["echo", {server: "a", tool: "echo"}], ["sum", {server: "a", tool: "sum"}], ["read_graph", {server: "b", tool: "read_graph"}]
        ]);
        expect(dropped).toEqual([]);
    });

    it("given two servers offering the same tool name, then both are prefixed with their server's name, the others not", () => {
        const {names} = assignToolNames([{server: "one", tools: ["echo", "sum"]}, {server: "two", tools: ["echo"]}]);
        expect([...names.keys()]).toEqual(["one_echo", "sum", "two_echo"]);
        expect(names.get("two_echo")).toEqual({server: "two", tool: "echo"});
    });

    it("given names the OpenAI API refuses, then their other characters become _ and they are cut at 64", () => {
        const {names} = assignToolNames([{server: "a", tools: ["files/read.text", "x".repeat(80)]}]);
        expect([...names.keys()]).toEqual(["files_read_text", "x".repeat(64)]);
    });

    it("given a name that collides even prefixed, then the later tool is left out and said to be", () => {
        const {names, dropped} = assignToolNames([{server: "a", tools: ["a.b", "a_b"]}]);
        expect([...names.keys()]).toEqual(["a_b"]);
        expect(dropped).toEqual([{server: "a", tool: "a_b"}]);
    });
});

describe("toolResultText", () => {
    it("given text parts, then they are joined, one per line", () => {
        expect(toolResultText({content: [{type: "text", text: "one"}, {type: "text", text: "two"}]})).toBe("one\ntwo");
    });

    it("given an image, a sound, a binary resource or a link, then each becomes a short note with its type and size", () => {
        const data = Buffer.alloc(1234).toString("base64");
        expect(toolResultText({content: [
            {type: "image", data, mimeType: "image/png"},
            {type: "audio", data, mimeType: "audio/wav"},
            {type: "resource", resource: {uri: "file:///x.gz", mimeType: "application/gzip", blob: data}},
            {type: "resource", resource: {uri: "file:///x.txt", text: "inside"}},
            {type: "resource_link", uri: "file:///y.txt", name: "y", mimeType: "text/plain"}
        ]})).toBe([
            "[image/png, 1.2 KB, not shown to the model]",
            "[audio/wav, 1.2 KB, not shown to the model]",
            "[application/gzip file:///x.gz, 1.2 KB, not shown to the model]",
            "inside",
            "[a link to file:///y.txt (text/plain), not opened]"
        ].join("\n"));
    });

    it("given only structured content, then it is read as JSON; given nothing, then that is said", () => {
        expect(toolResultText({content: [], structuredContent: {temperature: 21}})).toBe("{\"temperature\":21}");
        expect(toolResultText({content: []})).toBe("(the tool returned nothing)");
    });
});
