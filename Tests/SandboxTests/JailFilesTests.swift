import Foundation
import Sandbox
import Testing

/// Files written into a jail's own root: readable, not writable, gone with the jail.
@Suite struct JailFilesTests {
    @Test func aFileInTheRootIsReadableButNotWritableByThePayload() throws {
        let code = String(repeating: "x", count: 3 << 20) // larger than the root's usual 1 MiB
        let outcome = Fixtures.sh("""
            cat /code/main.txt | wc -c
            ls -l /code/main.txt | cut -c1-10
            echo more >> /code/main.txt 2>/dev/null && echo written || echo refused
            rm /code/main.txt 2>/dev/null && echo removed || echo kept
            """) { c in
            c.files = [JailFile(path: "/code/main.txt", contents: Array(code.utf8))]
        }
        #expect(outcome.result.status == .ok, "\(outcome.result)")
        #expect(String(decoding: outcome.stdout, as: UTF8.self) == "\(3 << 20)\n-r--r--r--\nrefused\nkept\n",
                "\(String(decoding: outcome.stderr, as: UTF8.self))")
    }

    @Test func aFileThatWouldLandInAnotherMountIsRefused() {
        for path in ["/tmp/x", "/usr/lib/x", "/dev/x", "/proc/x", "/etc/ssl/x", "/work/x", "relative", "/a/../etc/x"] {
            let outcome = Fixtures.sh("true") { c in
                c.binds = [Bind(source: "/tmp", target: "/work")]
                c.files = [JailFile(path: path, contents: Array("x".utf8))]
            }
            #expect(outcome.result.status == .setupError, "\(path): \(outcome.result)")
            #expect(outcome.result.message?.contains(path) == true, "\(path): \(outcome.result.message ?? "")")
        }
    }
}
