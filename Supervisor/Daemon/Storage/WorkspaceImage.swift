import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tenant's workspace as an ext4 image (root mode): `tenants/<id>/workspace.img`,
/// sparse, sized so that its files can take the tenant's storage.bytes and no
/// more. The kernel then refuses every write past the limit (ENOSPC), from the
/// files API and from any process of the tenant's jails alike.
struct WorkspaceImage {
    /// The image file.
    let path: String
    /// The workspace directory of before (rootless, or a tenant from an older
    /// release): its files move into the image once, and it goes.
    let directory: String
    /// The host uid and gid that own the image's root (the jails' payload user).
    let owner: Int64

    static let blockSize = 4096
    /// The smallest image made, whatever the limit (ext4 needs room for its own records).
    static let minimumBytes = 1 << 20

    var exists: Bool { FileManager.default.fileExists(atPath: path) }

    /// What `prepare` found or did, for the log.
    enum Preparation: Equatable {
        case unchanged
        case created(migratedFiles: Bool)
        case resized(from: Int, to: Int)
        /// The limit is below what the files take: the data stays, the image
        /// was shrunk as far as it goes, and it is full until files are deleted.
        case overLimit(imageBytes: Int)
    }

    /// Makes the image (moving the old directory's files in) or resizes it
    /// for `limit` bytes of files. Runs before the tenant's worker starts, so
    /// the image is not in use.
    func prepare(limit: Int) throws -> Preparation {
        if !exists { return try create(limit: limit) }
        // A migration cut short after the rename leaves the old directory: its files are in the image.
        if FileManager.default.fileExists(atPath: directory) { try? FileManager.default.removeItem(atPath: directory) }
        guard sizedFor() != limit else { return .unchanged }
        return try resize(limit: limit)
    }

    /// Waits until no loop device holds the image. A worker that was just
    /// stopped may still hold it for a moment (its mount goes with its jail's
    /// mount namespace); mounting it twice, or resizing it while mounted,
    /// would corrupt it.
    func waitUntilUnused(seconds: Double = 10) throws {
        let deadline = Date().addingTimeInterval(seconds)
        // The kernel names the backing file by its real path.
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        while let device = Self.loopDevice(holding: real) {
            guard Date() < deadline else {
                throw ExternalTool.Failure(description: "the workspace image \(path) is still in use on \(device) by a worker that has not ended; try again shortly")
            }
            usleep(20_000)
        }
    }

    /// The loop device whose backing file is `image`, if any.
    static func loopDevice(holding image: String) -> String? {
        let devices = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/block")) ?? []
        return devices.first { device in
            guard device.hasPrefix("loop"),
                  let backing = try? String(contentsOfFile: "/sys/block/\(device)/loop/backing_file", encoding: .utf8) else { return false }
            return backing.trimmingCharacters(in: .newlines) == image
        }.map { "/dev/" + $0 }
    }

    private func create(limit: Int) throws -> Preparation {
        let size = try Self.imageBytes(forFiles: limit, scratch: path + ".sizing")
        let building = path + ".new"
        try? FileManager.default.removeItem(atPath: building)
        let migrating = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).isEmpty == false
        do {
            try Self.makeSparseFile(building, bytes: size)
            var arguments = Self.mkfsOptions + ["-E", Self.mkfsExtended + ",root_owner=\(owner):\(owner)"]
            if migrating { arguments += ["-d", directory] }
            try ExternalTool.run("mkfs.ext4", arguments + [building])
            try Self.removeLostAndFound(building)
                        guard rename(building, path) == 0 else { throw POSIXFailure("cannot rename \(building) to \(path)") }
        } catch {
            try? FileManager.default.removeItem(atPath: building)
            if migrating {
                throw ExternalTool.Failure(description: "cannot move the workspace \(directory) into an image for storage.bytes \(limit) (its files are untouched; if they take more than that, raise the tenant's limit with `warden tenant limit`): \(error)")
            }
            throw error
        }
        try setSizedFor(limit)
        if FileManager.default.fileExists(atPath: directory) { try? FileManager.default.removeItem(atPath: directory) }
        return .created(migratedFiles: migrating)
    }

    private func resize(limit: Int) throws -> Preparation {
        let current = Self.fileSize(path)
        let wanted = try Self.imageBytes(forFiles: limit, scratch: path + ".sizing")
        // resize2fs wants a filesystem checked since it was last mounted.
        try ExternalTool.run("e2fsck", ["-f", "-p", path], okStatuses: [0, 1])
        var outcome = Preparation.resized(from: current, to: wanted)
        do {
            try ExternalTool.run("resize2fs", [path, "\(wanted / 1024)K"])
        } catch where wanted < current {
            // The files take more than the new limit: keep them all, shrink as far
            // as the filesystem goes, and let it be full until files are deleted.
            try ExternalTool.run("resize2fs", ["-M", path])
            outcome = .overLimit(imageBytes: Self.fileSize(path))
        }
        try Self.removeLostAndFound(path)
        try setSizedFor(limit)
        return outcome
    }

    // MARK: Sizing

    static let mkfsOptions = ["-q", "-F", "-t", "ext4", "-b", String(blockSize), "-m", "0", "-i", "16384"]
    /// The image starts sparse, so its inode tables already read as zeros:
    /// zeroing them after mount (ext4's lazy init) would only fill the host's disk.
    static let mountOptions = ["noinit_itable"]
    /// Lazy initialisation keeps the sparse image small and mkfs fast.
    static let mkfsExtended = "lazy_itable_init=1,lazy_journal_init=1,nodiscard"

    /// The image size whose filesystem leaves `files` bytes for files: the
    /// limit plus what ext4 keeps for itself (journal, inode tables, group
    /// descriptors, measured on a scratch filesystem of the limit's size) and
    /// its reserve for delayed allocation (2 %, at most 4096 blocks).
    static func imageBytes(forFiles files: Int, scratch: String) throws -> Int {
        let base = roundUp(max(files, minimumBytes))
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try makeSparseFile(scratch, bytes: base)
        try ExternalTool.run("mkfs.ext4", mkfsOptions + ["-E", mkfsExtended, scratch])
        let header = try ExternalTool.run("dumpe2fs", ["-h", scratch])
        guard let blocks = field("Block count", in: header), let free = field("Free blocks", in: header) else {
            throw ExternalTool.Failure(description: "dumpe2fs -h \(scratch) did not give the block counts")
        }
        let overhead = (blocks - free) * blockSize
        let reserve = min((base + overhead) / blockSize / 50, 4096) * blockSize
        return roundUp(base + overhead + reserve)
    }

    static func field(_ name: String, in text: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            return Int(line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    static func roundUp(_ bytes: Int) -> Int { (bytes + blockSize - 1) / blockSize * blockSize }

    static func makeSparseFile(_ path: String, bytes: Int) throws {
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw POSIXFailure("cannot create \(path)") }
        defer { close(fd) }
        guard ftruncate(fd, off_t(bytes)) == 0 else { throw POSIXFailure("cannot size \(path) to \(bytes) bytes") }
    }

    static func fileSize(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : 0
    }

    /// mkfs and e2fsck make lost+found; tenants should not find a directory they cannot open.
    static func removeLostAndFound(_ image: String) throws {
        let listing = try ExternalTool.run("debugfs", ["-R", "ls -p /", image])
        guard listing.contains("/lost+found/") else { return }
        try ExternalTool.run("debugfs", ["-w", "-R", "rmdir lost+found", image])
    }

    /// The limit the image was last sized for, in a file beside it.
    var sizedForPath: String { path + ".limit" }

    private func sizedFor() -> Int? {
        (try? String(contentsOfFile: sizedForPath, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    private func setSizedFor(_ limit: Int) throws {
        try Data("\(limit)\n".utf8).write(to: URL(fileURLWithPath: sizedForPath), options: .atomic)
    }
}
