import Foundation

/// A position in a policy source file (1-based row and column).
///
/// Every term and expression carries one, and the evaluator copies terms all the time, so
/// the file name is stored as a number (see `FileNames`): a location is twelve bytes of
/// plain data and copying it costs no reference counting.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    private var fileID: UInt32
    private var row32: UInt32
    private var col32: UInt32

    /// 1-based line.
    public var row: Int {
        get { Int(row32) }
        set { row32 = UInt32(truncatingIfNeeded: newValue) }
    }

    /// 1-based column.
    public var col: Int {
        get { Int(col32) }
        set { col32 = UInt32(truncatingIfNeeded: newValue) }
    }

    /// The file name as given to the loader.
    public var file: String {
        get { FileNames.shared.name(fileID) }
        set { fileID = FileNames.shared.id(newValue) }
    }

    public init(file: String, row: Int, col: Int) {
        self.fileID = FileNames.shared.id(file)
        self.row32 = UInt32(truncatingIfNeeded: row)
        self.col32 = UInt32(truncatingIfNeeded: col)
    }

    public var description: String { "\(file):\(row):\(col)" }
}

/// The file names locations refer to, each stored once for the life of the process
/// (a process loads few policy files).
final class FileNames: @unchecked Sendable {
    static let shared = FileNames()

    private let lock = NSLock()
    private var names: [String] = []
    private var ids: [String: UInt32] = [:]

    func id(_ name: String) -> UInt32 {
        lock.lock()
        defer { lock.unlock() }
        if let id = ids[name] { return id }
        let id = UInt32(names.count)
        names.append(name)
        ids[name] = id
        return id
    }

    func name(_ id: UInt32) -> String {
        lock.lock()
        defer { lock.unlock() }
        return names[Int(id)]
    }
}
