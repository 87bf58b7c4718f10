/**
 * An MCP tool's input schema (JSON Schema) as node-llama-cpp's function parameters (`GbnfJsonSchema`), whose grammar
 * makes the model write arguments that fit. node-llama-cpp accepts a subset of JSON Schema, so:
 * - kept: `type` (one or several), `enum`, `const`, `description`, `properties`, `items`/`prefixItems`,
 *   `minItems`/`maxItems`, `minLength`/`maxLength`, `format` date-time/date/time, `additionalProperties` given as a schema or true;
 * - simplified: `anyOf` becomes `oneOf`; `allOf` of object schemas is merged; a `$ref` to `#/$defs/...` or
 *   `#/definitions/...` is written out in place; a property not `required` becomes "the value or null" (node-llama-cpp's
 *   grammar writes every property), and {@link withoutOmittedNulls} removes those nulls before the tool is called;
 *   a schema without a type (any value) becomes one of string, number, boolean, null, array or object;
 * - dropped, the tool's server still checking them: `pattern`, other `format`s, `minimum`/`maximum` and the like,
 *   `default`, `examples`, `title`, `additionalProperties: false`, `patternProperties`, `if`/`then`/`else`;
 * - not expressible (the tool is not offered): arguments that are not an object, `not`, a recursive or unresolvable
 *   `$ref`, an `enum` or `const` of objects, `allOf` of anything but objects, an unknown type, the schema `false`.
 * docs/tools.md repeats these rules for admins.
 */
import type {GbnfJsonObjectSchema, GbnfJsonSchema, GbnfJsonSchemaImmutableType} from "node-llama-cpp";
import type {ToolParametersSchema} from "../types.js";

export type ConvertedToolSchema =
    | {readonly expressible: true, readonly params: GbnfJsonObjectSchema}
    | {readonly expressible: false, readonly reason: string};

type JsonObject = {readonly [key: string]: unknown};

const immutableTypes: readonly string[] = ["string", "number", "integer", "boolean", "null"] satisfies GbnfJsonSchemaImmutableType[];
const stringFormats: readonly string[] = ["date-time", "date", "time"];
/** Deeper than this is taken for a runaway schema. */
const maxDepth = 32;

class InexpressibleSchemaError extends Error {}

/** The tool's parameters as node-llama-cpp takes them, or why they cannot be expressed. */
export function toGbnfJsonSchema(schema: ToolParametersSchema): ConvertedToolSchema {
    try {
        const converted = new SchemaConverter(schema).convert(schema, "arguments", [], 0);
        if (!("type" in converted) || converted.type !== "object")
            return {expressible: false, reason: "its arguments are not an object"};
        return {expressible: true, params: converted as GbnfJsonObjectSchema};
    } catch (error) {
        if (error instanceof InexpressibleSchemaError)
            return {expressible: false, reason: error.message};
        throw error;
    }
}

/**
 * The arguments the model wrote, without the nulls it had to write for properties the tool does not require (see
 * {@link toGbnfJsonSchema}), at any depth, so the tool's server sees them left out as it expects.
 */
export function withoutOmittedNulls(schema: ToolParametersSchema, value: unknown): unknown {
    return new SchemaConverter(schema).clean(schema, value, [], 0);
}

class SchemaConverter {
    readonly #root: JsonObject;

    constructor(root: JsonObject) {
        this.#root = root;
    }

    convert(node: unknown, where: string, refs: readonly string[], depth: number): GbnfJsonSchema {
        if (depth > maxDepth)
            throw new InexpressibleSchemaError(`${where} is nested too deeply`);
        if (node === true)
            return anyValue();
        if (!isObject(node))
            throw new InexpressibleSchemaError(`${where} has the schema ${JSON.stringify(node)}`);

        const described = <T extends GbnfJsonSchema>(schema: T): T => (typeof node.description === "string" ? {...schema, description: node.description} : schema);
        if (typeof node.$ref === "string") {
            const [target, ref] = this.#resolve(node.$ref, where, refs);
            return described(this.convert(target, where, [...refs, ref], depth + 1));
        }
        if ("not" in node)
            throw new InexpressibleSchemaError(`${where} uses "not"`);
        if ("const" in node) {
            if (!isPrimitive(node.const))
                throw new InexpressibleSchemaError(`${where} is a constant that is not a string, number, boolean or null`);
            return described({const: node.const});
        }
        if (Array.isArray(node.enum)) {
            if (!node.enum.every(isPrimitive))
                throw new InexpressibleSchemaError(`${where} has an enum of values that are not strings, numbers, booleans or null`);
            return described({enum: node.enum});
        }
        const variants = Array.isArray(node.oneOf) ? node.oneOf : Array.isArray(node.anyOf) ? node.anyOf : undefined;
        if (variants != null)
            return described({oneOf: variants.map((variant, index) => this.convert(variant, `${where} (variant ${index + 1})`, refs, depth + 1))});
        if (Array.isArray(node.allOf))
            return this.convert(this.#mergeAllOf(node, where, refs), where, refs, depth + 1);

        const type = node.type ?? (isObject(node.properties) ? "object" : node.items != null ? "array" : undefined);
        if (type === undefined)
            return described(anyValue());
        if (Array.isArray(type)) {
            if (type.every((entry) => typeof entry === "string" && immutableTypes.includes(entry)))
                return described({type: type as GbnfJsonSchemaImmutableType[]});
            return described({oneOf: type.map((entry) => this.convert({...node, type: entry, description: undefined}, where, refs, depth + 1))});
        }
        switch (type) {
            case "string":
                return described(stringSchema(node));
            case "number":
            case "integer":
            case "boolean":
            case "null":
                return described({type: type as GbnfJsonSchemaImmutableType});
            case "object":
                return described(this.#objectSchema(node, where, refs, depth));
            case "array":
                return described(this.#arraySchema(node, where, refs, depth));
            default:
                throw new InexpressibleSchemaError(`${where} has the unknown type ${JSON.stringify(type)}`);
        }
    }

    clean(node: unknown, value: unknown, refs: readonly string[], depth: number): unknown {
        if (depth > maxDepth || !isObject(node))
            return value;
        if (typeof node.$ref === "string") {
            const [target, ref] = this.#resolve(node.$ref, "arguments", refs);
            return this.clean(target, value, [...refs, ref], depth + 1);
        }
        if (Array.isArray(node.allOf))
            return this.clean(this.#mergeAllOf(node, "arguments", refs), value, refs, depth + 1);
        if (Array.isArray(value) && isObject(node.items))
            return value.map((item) => this.clean(node.items, item, refs, depth + 1));
        if (!isObject(value) || !isObject(node.properties))
            return value;

        const properties = node.properties;
        const required = Array.isArray(node.required) ? node.required : [];
        return Object.fromEntries(Object.entries(value)
            .filter(([key, item]) => !(item === null && !required.includes(key) && Object.hasOwn(properties, key) && !allowsNull(properties[key])))
            .map(([key, item]) => [key, Object.hasOwn(properties, key) ? this.clean(properties[key], item, refs, depth + 1) : item]));
    }

    #objectSchema(node: JsonObject, where: string, refs: readonly string[], depth: number): GbnfJsonSchema {
        const required = Array.isArray(node.required) ? node.required : [];
        const properties = Object.entries(isObject(node.properties) ? node.properties : {}).map(([key, property]): [string, GbnfJsonSchema] => {
            const converted = this.convert(property, `${where}.${key}`, refs, depth + 1);
            return [key, required.includes(key) || allowsNull(property) ? converted : orNull(converted)];
        });
        const {additionalProperties} = node;
        const extra = additionalProperties === true
            ? {additionalProperties: true}
            : isObject(additionalProperties) ? {additionalProperties: this.convert(additionalProperties, `${where}.*`, refs, depth + 1)} : {};
        return {type: "object", properties: Object.fromEntries(properties), ...extra};
    }

    #arraySchema(node: JsonObject, where: string, refs: readonly string[], depth: number): GbnfJsonSchema {
        // draft 2019 and older write a tuple as an array of `items`
        const prefix = Array.isArray(node.prefixItems) ? node.prefixItems : Array.isArray(node.items) ? node.items : undefined;
        const items = Array.isArray(node.items) ? node.additionalItems : node.items;
        return {
            type: "array",
            ...(prefix != null && {prefixItems: prefix.map((item, index) => this.convert(item, `${where}[${index}]`, refs, depth + 1))}),
            ...(items != null && items !== true && {items: this.convert(items, `${where}[]`, refs, depth + 1)}),
            ...(isCount(node.minItems) && {minItems: node.minItems}),
            ...(isCount(node.maxItems) && {maxItems: node.maxItems})
        };
    }

    /** `allOf` of object schemas as one object schema: their properties and required lists together. */
    #mergeAllOf(node: JsonObject, where: string, refs: readonly string[]): JsonObject {
        const parts = [{...node, allOf: undefined}, ...(node.allOf as unknown[])].map((part) => {
            const resolved = isObject(part) && typeof part.$ref === "string" ? this.#resolve(part.$ref, where, refs)[0] : part;
            if (!isObject(resolved) || ["oneOf", "anyOf", "allOf", "enum", "const", "not"].some((key) => resolved[key] !== undefined)
                || (resolved.type !== undefined && resolved.type !== "object"))
                throw new InexpressibleSchemaError(`${where} uses "allOf" of something other than objects`);
            return resolved;
        });
        return {
            type: "object",
            ...(typeof node.description === "string" && {description: node.description}),
            properties: Object.assign({}, ...parts.map((part) => (isObject(part.properties) ? part.properties : {}))),
            required: parts.flatMap((part) => (Array.isArray(part.required) ? part.required : []))
        };
    }

    #resolve(ref: string, where: string, refs: readonly string[]): [unknown, string] {
        if (refs.includes(ref))
            throw new InexpressibleSchemaError(`${where} refers to itself (${ref})`);
        const match = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
        const definitions = match == null ? undefined : this.#root[match[1]!];
        const target = match == null || !isObject(definitions) ? undefined : definitions[decodeURIComponent(match[2]!)];
        if (target === undefined)
            throw new InexpressibleSchemaError(`${where} refers to ${ref}, which this schema does not define`);
        return [target, ref];
    }
}

function stringSchema(node: JsonObject): GbnfJsonSchema {
    if (typeof node.format === "string" && stringFormats.includes(node.format))
        return {type: "string", format: node.format as "date-time" | "date" | "time"};
    return {
        type: "string",
        ...(isCount(node.minLength) && {minLength: node.minLength}),
        ...(isCount(node.maxLength) && {maxLength: node.maxLength})
    };
}

/** Any JSON value. */
function anyValue(): GbnfJsonSchema {
    return {oneOf: [{type: ["string", "number", "boolean", "null"]}, {type: "array"}, {type: "object", additionalProperties: true}]};
}

/** The schema, or null (an optional property the model leaves out). */
function orNull(schema: GbnfJsonSchema): GbnfJsonSchema {
    const {description, ...rest} = schema as GbnfJsonSchema & {description?: string};
    return {oneOf: [rest as GbnfJsonSchema, {type: "null"}], ...(description != null && {description})};
}

/** Whether a (JSON Schema) property says null itself, so a null the model writes is meant. */
function allowsNull(schema: unknown): boolean {
    if (!isObject(schema))
        return schema === true;
    const {type} = schema;
    return type === "null" || (Array.isArray(type) && type.includes("null"))
        || (Array.isArray(schema.enum) && schema.enum.includes(null)) || schema.const === null
        || [schema.oneOf, schema.anyOf].some((variants) => Array.isArray(variants) && variants.some(allowsNull))
        || (type === undefined && schema.properties === undefined && schema.items === undefined && schema.$ref === undefined
            && [schema.oneOf, schema.anyOf, schema.allOf, schema.enum].every((keyword) => keyword === undefined) && !("const" in schema));
}

function isObject(value: unknown): value is JsonObject {
    return typeof value === "object" && value != null && !Array.isArray(value);
}

function isPrimitive(value: unknown): value is string | number | boolean | null {
    return value === null || ["string", "number", "boolean"].includes(typeof value);
}

function isCount(value: unknown): value is number {
    return Number.isSafeInteger(value) && (value as number) >= 0;
}
