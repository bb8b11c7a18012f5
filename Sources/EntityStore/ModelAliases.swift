import EntityModel

/// GRDB also declares `Record`; inside this module the name means the domain record.
public typealias Record = EntityModel.Record
