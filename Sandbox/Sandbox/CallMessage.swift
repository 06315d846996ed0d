import CSandbox

/// The call an armed jail receives (struct wd_call and what follows it): one
/// flat buffer whose parts refer to each other by offset, so the jail's init
/// reads it without parsing and without allocating.
enum CallMessage {
    static func encode(path: String, cwd: String, argv: [String], envp: [String],
                       files: [JailFile], rlimits: [wd_rlimit]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: MemoryLayout<wd_call>.size)
        var header = wd_call()
        header.path = string(path, into: &out)
        header.cwd = string(cwd, into: &out)
        header.argv = strings(argv, into: &out)
        header.envp = strings(envp, into: &out)

        var entries: [wd_call_file] = []
        for file in files {
            var entry = wd_call_file()
            entry.target = string(file.path, into: &out)
            entry.data = UInt64(out.count)
            entry.len = UInt64(file.contents.count)
            entry.mode = file.mode
            out += file.contents
            entries.append(entry)
        }
        header.files = raw(entries, into: &out)
        header.n_files = UInt64(entries.count)
        header.rlimits = raw(rlimits, into: &out)
        header.n_rlimits = UInt64(rlimits.count)
        header.size = UInt64(out.count)
        withUnsafeBytes(of: header) { out.replaceSubrange(0..<$0.count, with: $0) }
        return out
    }

    private static func string(_ s: String, into out: inout [UInt8]) -> UInt64 {
        let offset = UInt64(out.count)
        out += s.utf8
        out.append(0)
        return offset
    }

    /// The strings, then the 8-byte array of their offsets ending with 0.
    private static func strings(_ items: [String], into out: inout [UInt8]) -> UInt64 {
        let offsets = items.map { string($0, into: &out) } + [0]
        return raw(offsets, into: &out)
    }

    /// The values' bytes, 8-byte aligned.
    private static func raw<T>(_ items: [T], into out: inout [UInt8]) -> UInt64 {
        while out.count % 8 != 0 { out.append(0) }
        let offset = UInt64(out.count)
        items.withUnsafeBytes { out += $0 }
        return offset
    }
}
