import Foundation
import Sandbox
import Testing

/// The jail must see only its minimal root: no host secrets, no other
/// workspace, read-only where it says so, and bounded where it writes.
@Suite struct FilesystemTests {
    @Test func hostSecretsAreNotVisible() {
        let o = Fixtures.sh("cat /etc/shadow; ls /root; ls /home; ls /work; ls /var; ls /run; echo done")
        #expect(o.out == "done\n", "saw: \(o.out) \(o.result)")
        #expect(o.err.contains("No such file"))
    }

    @Test func rootContainsOnlyTheMinimalTree() {
        let o = Fixtures.sh("ls -A /")
        let entries = Set(o.out.split(separator: "\n").map(String.init))
        let allowed: Set = ["bin", "sbin", "lib", "lib64", "lib32", "libx32", "usr", "etc", "dev", "proc", "tmp"]
        #expect(!entries.isEmpty)
        #expect(entries.isSubset(of: allowed), "unexpected: \(entries.subtracting(allowed))")
        let dev = Set(Fixtures.sh("ls -A /dev").out.split(separator: "\n").map(String.init))
        #expect(dev == ["null", "zero", "full", "random", "urandom", "fd", "stdin", "stdout", "stderr", "shm"], "\(dev)")
    }

    @Test func anotherWorkspaceIsInvisibleAndOwnIsWritable() throws {
        let mine = try Fixtures.temporaryDirectory(mode: 0o777)
        let theirs = try Fixtures.temporaryDirectory(mode: 0o777)
        defer { try? FileManager.default.removeItem(atPath: mine); try? FileManager.default.removeItem(atPath: theirs) }
        try "secret".write(toFile: theirs + "/secret.txt", atomically: true, encoding: .utf8)
        let o = Fixtures.sh("echo hello > /workspace/note.txt && cat /workspace/note.txt; find / -name secret.txt 2>/dev/null; cat \(theirs)/secret.txt") {
            $0.binds = [Bind(source: mine, target: "/workspace", writable: true)]
        }
        #expect(o.out == "hello\n", "\(o.out) \(o.err)")
        #expect(FileManager.default.fileExists(atPath: mine + "/note.txt"))
    }

    @Test func readOnlyPlacesRefuseWrites() throws {
        let dir = try Fixtures.temporaryDirectory(mode: 0o777)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let o = Fixtures.sh("""
        for f in /ro/x /usr/x /etc/x /x /dev/x /proc/x; do (echo > $f) 2>/dev/null && echo "wrote $f"; done; echo checked
        """) { $0.binds = [Bind(source: dir, target: "/ro", writable: false)] }
        #expect(o.out == "checked\n", "\(o.out)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/x"))
    }

    @Test func tmpIsPrivateAndSizeLimited() {
        let o = Fixtures.sh("dd if=/dev/zero of=/tmp/fill bs=1M count=64 2>&1; ls -l /tmp/fill | awk '{print $5}'") {
            $0.tmpSizeBytes = 8 << 20
        }
        #expect(o.out.contains("No space left on device"), "\(o.out)")
        let size = Int(o.out.split(separator: "\n").last ?? "") ?? -1
        #expect(size > 0 && size <= 8 << 20)
        // Nothing of it reached the host's /tmp.
        #expect(!FileManager.default.fileExists(atPath: "/tmp/fill"))
    }

    @Test func setuidBinariesGainNothing() throws {
        guard Fixtures.isRoot else { return }
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A setuid-root copy of a program that prints its effective uid.
        try FileManager.default.copyItem(atPath: "/usr/bin/id", toPath: dir + "/suid-id")
        chmod(dir + "/suid-id", 0o4755)
        let o = Fixtures.sh("/s/suid-id -u; /usr/bin/su -c true root; echo su=$?") {
            $0.binds = [Bind(source: dir, target: "/s")]
        }
        let lines = o.out.split(separator: "\n").map(String.init)
        #expect(lines.first == "1000", "setuid binary ran as \(lines.first ?? "?")")
        #expect(lines.last != "su=0")
    }
}
