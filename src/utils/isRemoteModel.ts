/** `hf:` and `https:` model URIs are downloaded by node-llama-cpp; anything else is a file path. */
export function isRemoteModel(model: string): boolean {
    return /^(hf:|huggingface:|https?:\/\/)/i.test(model);
}
