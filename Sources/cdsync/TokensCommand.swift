import ArgumentParser
import EntityModel
import EntityStore
import Foundation

/// `cdsync tokens list|show|reset`.
struct TokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "List, show or reset the change tokens scripts keep between runs.",
        subcommands: [List.self, Show.self, Reset.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List saved tokens.")
        @OptionGroup var store: StoreOptions

        func run() throws {
            do {
                let tokens = try EntityStore(path: store.path).allTokens()
                if tokens.isEmpty { print("no tokens saved"); return }
                let formatter = ISO8601DateFormatter.cdsync
                print(SchemaPrinter.align([["NAME", "ENTITY", "SAVED", "TOKEN"]] + tokens.map {
                    [$0.name, $0.entity, formatter.string(from: $0.updatedAt), $0.token]
                }))
            } catch { throw ErrorReport.print(error) }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one token.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The token's name.") var name: String

        func run() throws {
            let token: SavedToken?
            do { token = try EntityStore(path: store.path).token(named: name) } catch { throw ErrorReport.print(error) }
            guard let token else {
                ErrorReport.writeStandardError("error: no token named '\(name)'")
                throw ExitCode.scriptFailed
            }
            print("name:    \(token.name)\nentity:  \(token.entity)\nsaved:   \(ISO8601DateFormatter.cdsync.string(from: token.updatedAt))\ntoken:   \(token.token)")
        }
    }

    struct Reset: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Forget a token: the next run under that name does a full sync.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The token's name.") var name: String

        func run() throws {
            let existed: Bool
            do { existed = try EntityStore(path: store.path).removeToken(named: name) } catch { throw ErrorReport.print(error) }
            guard existed else {
                ErrorReport.writeStandardError("error: no token named '\(name)'")
                throw ExitCode.scriptFailed
            }
            print("token '\(name)' reset: the next run does a full sync")
        }
    }
}
