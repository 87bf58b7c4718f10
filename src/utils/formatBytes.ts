/** "812 bytes", "97.7 KB", "3.2 MB" */
export function formatBytes(bytes: number): string {
    if (bytes < 1024)
        return `${bytes.toLocaleString("en-US")} bytes`;
    if (bytes < 1024 * 1024)
        return `${(bytes / 1024).toFixed(1)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
