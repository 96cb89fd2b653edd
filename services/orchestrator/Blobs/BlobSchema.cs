using Weasel.Postgresql.Tables;

namespace ReBench.Orchestrator.Blobs;

/// <summary>
/// The content-addressed blob table, part of the orchestrator's Marten schema (created and migrated with it):
/// <c>blobs(sha256 text primary key, size bigint, content bytea, created_at timestamptz)</c>. The key is the
/// lower-case hex SHA-256 of the content, so one content is stored once however many events reference it.
/// </summary>
public static class BlobSchema
{
    public const string TableName = "blobs";

    public static void AddBlobTable(this StoreOptions o, string schema)
    {
        var table = new Table($"{schema}.{TableName}");
        table.AddColumn<string>("sha256").AsPrimaryKey();
        table.AddColumn("size", "bigint").NotNull();
        table.AddColumn("content", "bytea").NotNull();
        table.AddColumn("created_at", "timestamp with time zone").NotNull().DefaultValueByExpression("now()");
        o.Storage.ExtendedSchemaObjects.Add(table);
    }

    public static string Qualified(string schema) => $"\"{schema}\".{TableName}";
}
