import Foundation
import LuaKit

/// Field names as C strings at fixed addresses, for `setField(_:in:)` on every row: Lua finds
/// the interned string of a C string it has seen by its address (its string cache) instead of
/// hashing the name again. A name holding a NUL byte cannot be a C string: then the names
/// themselves are used.
///
/// Immutable once made, and only read on the Lua state's thread.
final class FixedNames: @unchecked Sendable {
    let names: [String]
    private let pointers: [UnsafeMutablePointer<CChar>]

    init(_ names: [String]) {
        self.names = names
        pointers = names.contains(where: { $0.utf8.contains(0) }) ? [] : names.map { strdup($0)! }
    }

    deinit { for pointer in pointers { free(pointer) } }

    var count: Int { names.count }

    /// Pops the top value and stores it as `table[names[index]]` with a raw set.
    func setField(_ ctx: LuaCallContext, _ index: Int, in table: Int32) {
        if pointers.isEmpty { ctx.setField(names[index], in: table) } else { ctx.setField(pointers[index], in: table) }
    }

    /// Pushes `names[index]` as a Lua string.
    func push(_ ctx: LuaCallContext, _ index: Int) {
        if pointers.isEmpty { ctx.push(names[index]) } else { ctx.push(cString: pointers[index]) }
    }
}
