import path from "node:path";
import type {LlamaModel} from "node-llama-cpp";

/** The model's own name, or its file name. */
export function modelName(model: LlamaModel): string {
    return model.fileInfo.metadata.general?.name ?? path.basename(model.filename ?? "model");
}
