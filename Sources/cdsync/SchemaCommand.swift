import ArgumentParser
import EntityModel
import EntityStore
import Foundation

/// `cdsync schema apply|show|reactivate-key`.
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Apply a schema file or show entity definitions.",
        subcommands: [Apply.self, Show.self, ReactivateKey.self])

    /// `cdsync schema apply FILE`.
    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create or extend entities from a YAML schema file.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "The schema file (YAML).") var file: String

        func run() throws {
            let text: String
            do {
                text = try Self.readText(file)
            } catch {
                ErrorReport.writeStandardError("error: cannot read \(file): \(error)")
                throw ExitCode.usage
            }
            do {
                let entityStore = try EntityStore(path: store.path)
                let changes = try entityStore.applySchemaFile(text, fileName: file)
                print(SchemaPrinter.summary(changes))
            } catch {
                // the file's own errors start with its name, which the line already begins with
                if let failure = error as? ServiceError, failure.message.hasPrefix("\(file): ") {
                    var shortened = failure
                    shortened.message = String(failure.message.dropFirst(file.count + 2))
                    throw ErrorReport.print(shortened, location: file)
                }
                throw ErrorReport.print(error, location: file)
            }
        }

        private struct Unreadable: Error, CustomStringConvertible { let description: String }

        /// The file's text, or why it has none in words (not a Foundation error number).
        static func readText(_ path: String) throws -> String {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw Unreadable(description: "no such file") }
            guard !isDirectory.boolValue else { throw Unreadable(description: "it is a directory") }
            guard let data = FileManager.default.contents(atPath: path) else { throw Unreadable(description: "permission denied, or not a regular file") }
            guard let text = String(data: data, encoding: .utf8) else { throw Unreadable(description: "it is not UTF-8 text") }
            return text
        }
    }

    /// `cdsync schema show [ENTITY]`.
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List entities, or show one entity's columns, keys and state model.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "An entity's logical name.") var entity: String?
        @Flag(help: "Print in the schema file format (YAML).") var yaml = false

        func run() throws {
            do {
                let entityStore = try EntityStore(path: store.path)
                if let entity {
                    let definition = try entityStore.definition(of: entity)
                    print(yaml ? try SchemaFile.yaml(for: [definition]) : SchemaPrinter.describe(definition), terminator: yaml ? "" : "\n")
                } else if yaml {
                    print(try SchemaFile.yaml(for: try entityStore.entityDefinitions()), terminator: "")
                } else {
                    print(try SchemaPrinter.list(entityStore))
                }
            } catch {
                throw ErrorReport.print(error)
            }
        }
    }

    /// `cdsync schema reactivate-key ENTITY KEY`: a Failed key (rows shared its values when its
    /// index was built) is built again, once those rows are fixed.
    struct ReactivateKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reactivate-key",
            abstract: "Build a Failed alternate key's index again (after fixing the rows that shared its values).")

        @OptionGroup var store: StoreOptions
        @Argument(help: "The entity's logical name.") var entity: String
        @Argument(help: "The key's name.") var key: String

        func run() throws {
            do {
                let entityStore = try EntityStore(path: store.path)
                try entityStore.reactivateKey(entity: entity, name: key)
                let status = try entityStore.processKeyJobs()["\(entity).\(key)"] ?? .pending
                print("key \(entity).\(key): \(status.rawValue)")
                if status == .failed {
                    ErrorReport.writeStandardError("error: rows of \(entity) still share values of key \(key); fix them and run this again")
                    throw ExitCode.scriptFailed
                }
            } catch let exit as ExitCode {
                throw exit
            } catch {
                throw ErrorReport.print(error)
            }
        }
    }
}
