import {describe, expect, it} from "vitest";
import {toGbnfJsonSchema, withoutOmittedNulls} from "../../src/llm/local/toolSchema.js";

const paramsOf = (schema: Record<string, unknown>) => {
    const converted = toGbnfJsonSchema(schema);
    if (!converted.expressible)
        throw new Error(`not expressible: ${converted.reason}`);
    return converted.params;
};

describe("toGbnfJsonSchema", () => {
    it("given a schema node-llama-cpp takes as it is, then it is kept, descriptions included", () => {
        const schema = {
            type: "object",
            properties: {
                message: {type: "string", description: "Message to echo", minLength: 1},
                kind: {type: "string", enum: ["error", "success"]},
                tags: {type: "array", items: {type: "string"}, maxItems: 3},
                when: {type: "string", format: "date-time"}
            },
            required: ["message", "kind", "tags", "when"]
        };
        expect(paramsOf(schema)).toEqual({
            type: "object",
            properties: {
                message: {type: "string", minLength: 1, description: "Message to echo"},
                kind: {enum: ["error", "success"]},
                tags: {type: "array", items: {type: "string"}, maxItems: 3},
                when: {type: "string", format: "date-time"}
            }
        });
    });

    it("given properties that are not required, then each one becomes the value or null (unless it allows null already)", () => {
        const schema = {type: "object", properties: {a: {type: "number", default: 3, description: "A"}, b: {type: ["string", "null"]}}};
        expect(paramsOf(schema).properties).toEqual({
            a: {oneOf: [{type: "number"}, {type: "null"}], description: "A"},
            b: {type: ["string", "null"]}
        });
    });

    it("given anyOf, pattern, formats it cannot check, bounds, $ref and allOf, then they are simplified as docs/tools.md says", () => {
        const schema = {
            type: "object",
            $defs: {Place: {type: "object", properties: {city: {type: "string"}}, required: ["city"]}},
            properties: {
                id: {anyOf: [{type: "string", pattern: "^[a-z]+$"}, {type: "integer", minimum: 1}]},
                url: {type: "string", format: "uri"},
                place: {$ref: "#/$defs/Place"},
                both: {allOf: [{type: "object", properties: {x: {type: "number"}}, required: ["x"]}, {properties: {y: {type: "number"}}}]}
            },
            required: ["id", "url", "place", "both"],
            additionalProperties: false
        };
        expect(paramsOf(schema)).toEqual({
            type: "object",
            properties: {
                id: {oneOf: [{type: "string"}, {type: "integer"}]},
                url: {type: "string"},
                place: {type: "object", properties: {city: {type: "string"}}},
                both: {type: "object", properties: {x: {type: "number"}, y: {oneOf: [{type: "number"}, {type: "null"}]}}}
            }
        });
    });

    it("given schemas it cannot express, then it says why and offers nothing", () => {
        const cases: Array<[Record<string, unknown>, RegExp]> = [
            [{type: "string"}, /not an object/],
            [{type: "object", properties: {a: {not: {type: "string"}}}}, /arguments\.a uses "not"/],
            [{type: "object", properties: {node: {$ref: "#/definitions/Node"}}, definitions: {Node: {type: "object", properties: {next: {$ref: "#/definitions/Node"}}}}}, /refers to itself/],
            [{type: "object", properties: {a: {$ref: "https://example.com/schema"}}}, /does not define/],
            [{type: "object", properties: {a: {enum: [{x: 1}]}}}, /enum/],
            [{type: "object", properties: {a: {type: "tuple"}}}, /unknown type/],
            [{type: "object", properties: {a: false}}, /arguments\.a/],
            [{type: "object", properties: {a: {allOf: [{type: "string"}]}}}, /allOf/]
        ];
        for (const [schema, reason] of cases)
            expect(toGbnfJsonSchema(schema)).toEqual({expressible: false, reason: expect.stringMatching(reason)});
    });

    it("given server-everything's tool schemas, then every one is expressible", () => {
        const schemas = [
            {type: "object", properties: {message: {type: "string", description: "Message to echo"}}, required: ["message"], $schema: "http://json-schema.org/draft-07/schema#"},
            {type: "object", properties: {}, $schema: "http://json-schema.org/draft-07/schema#"},
            {type: "object", properties: {count: {default: 3, type: "number", minimum: 1, maximum: 10}}},
            {type: "object", properties: {data: {default: "x", type: "string", format: "uri"}, outputType: {type: "string", enum: ["resourceLink", "resource"]}}}
        ];
        for (const schema of schemas)
            expect(toGbnfJsonSchema(schema).expressible).toBe(true);
    });
});

describe("withoutOmittedNulls", () => {
    it("given the nulls the model wrote for optional properties, then they are left out, at any depth; meant nulls stay", () => {
        const schema = {
            type: "object",
            properties: {
                a: {type: "number"},
                b: {type: ["string", "null"]},
                c: {type: "string"},
                inner: {type: "object", properties: {d: {type: "string"}}},
                list: {type: "array", items: {type: "object", properties: {e: {type: "number"}}}}
            },
            required: ["c"]
        };
        expect(withoutOmittedNulls(schema, {a: null, b: null, c: null, inner: {d: null}, list: [{e: null}, {e: 1}]}))
            .toEqual({b: null, c: null, inner: {}, list: [{}, {e: 1}]});
    });
});
