import Crypto
import Foundation

/// SHA-256 over strings, each length-prefixed so ("ab","c") and ("a","bc") differ.
struct SHA256Hasher {
    private var hasher = SHA256()

    mutating func update(_ text: String) {
        var length = UInt64(text.utf8.count).littleEndian
        withUnsafeBytes(of: &length) { hasher.update(bufferPointer: $0) }
        hasher.update(data: Data(text.utf8))
    }

    func hex() -> String {
        hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    static func hex(of text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
