import CZlib

/// A PNG decoded to RGBA pixels, for tests that look at what a screenshot
/// shows. Reads what Chromium writes: 8-bit RGB or RGBA, not interlaced.
public struct PNGImage: Sendable {
    public let width: Int
    public let height: Int
    /// Four bytes per pixel, row by row.
    public let rgba: [UInt8]

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    public init(_ bytes: [UInt8]) throws {
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard bytes.count > 8, Array(bytes[0..<8]) == signature else { throw Failure("not a PNG: the signature is missing") }
        var offset = 8
        var header: [UInt8] = []
        var compressed: [UInt8] = []
        while offset + 8 <= bytes.count {
            let length = Int(Self.bigEndian(bytes, offset))
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let start = offset + 8
            guard start + length + 4 <= bytes.count else { throw Failure("chunk \(type) runs past the end") }
            let data = bytes[start..<(start + length)]
            var crc = crc32(0, nil, 0)
            crc = bytes[(offset + 4)..<(start + length)].withContiguousStorageIfAvailable {
                crc32(crc, $0.baseAddress, uInt($0.count))
            } ?? 0
            guard crc == UInt(Self.bigEndian(bytes, start + length)) else { throw Failure("chunk \(type) has a bad CRC") }
            if type == "IHDR" { header = Array(data) }
            if type == "IDAT" { compressed += data }
            if type == "IEND" { break }
            offset = start + length + 4
        }
        guard header.count == 13 else { throw Failure("no IHDR chunk") }
        width = Int(Self.bigEndian(header, 0))
        height = Int(Self.bigEndian(header, 4))
        let (depth, color, interlace) = (header[8], header[9], header[12])
        guard depth == 8, color == 2 || color == 6, interlace == 0 else {
            throw Failure("unsupported PNG: depth \(depth), color type \(color), interlace \(interlace)")
        }
        let channels = color == 6 ? 4 : 3
        let stride = width * channels
        var raw = [UInt8](repeating: 0, count: (stride + 1) * height)
        var rawLength = uLongf(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { out in
            compressed.withUnsafeBufferPointer { input in
                uncompress(out.baseAddress, &rawLength, input.baseAddress, uLong(input.count))
            }
        }
        guard status == Z_OK, Int(rawLength) == raw.count else { throw Failure("the image data does not inflate (zlib \(status))") }
        rgba = try Self.unfilter(raw, width: width, height: height, channels: channels)
    }

    /// The pixel at (x, y) as (r, g, b, a).
    public func pixel(_ x: Int, _ y: Int) -> (r: UInt8, g: UInt8, b: UInt8, a: UInt8) {
        let i = (y * width + x) * 4
        return (rgba[i], rgba[i + 1], rgba[i + 2], rgba[i + 3])
    }

    /// How many distinct colours the image holds (a blank one has one).
    public var distinctColors: Int {
        var seen = Set<UInt32>()
        for i in stride(from: 0, to: rgba.count, by: 4) {
            seen.insert(UInt32(rgba[i]) << 24 | UInt32(rgba[i + 1]) << 16 | UInt32(rgba[i + 2]) << 8 | UInt32(rgba[i + 3]))
        }
        return seen.count
    }

    private static func unfilter(_ raw: [UInt8], width: Int, height: Int, channels: Int) throws -> [UInt8] {
        let stride = width * channels
        var previous = [UInt8](repeating: 0, count: stride)
        var out = [UInt8]()
        out.reserveCapacity(width * height * 4)
        for y in 0..<height {
            let row = y * (stride + 1)
            let filter = raw[row]
            var line = Array(raw[(row + 1)...(row + stride)])
            for i in 0..<stride {
                let left = i >= channels ? Int(line[i - channels]) : 0
                let up = Int(previous[i])
                let upLeft = i >= channels ? Int(previous[i - channels]) : 0
                let add: Int
                switch filter {
                case 0: add = 0
                case 1: add = left
                case 2: add = up
                case 3: add = (left + up) / 2
                case 4:
                    let p = left + up - upLeft
                    let (pa, pb, pc) = (abs(p - left), abs(p - up), abs(p - upLeft))
                    add = pa <= pb && pa <= pc ? left : (pb <= pc ? up : upLeft)
                default: throw Failure("row \(y) has unknown filter \(filter)")
                }
                line[i] = UInt8(truncatingIfNeeded: Int(line[i]) + add)
            }
            for x in 0..<width {
                let p = x * channels
                out += [line[p], line[p + 1], line[p + 2], channels == 4 ? line[p + 3] : 255]
            }
            previous = line
        }
        return out
    }

    private static func bigEndian(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }
}
