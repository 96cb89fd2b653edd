using ReBench.Scoring.Reports;

namespace ReBench.Reports.Tests;

/// <summary>CSV parsing against a hand-made catalog: alpha is lower-is-better 5 -> 1, beta higher-is-better 0 -> 10.</summary>
public sealed class HumanBaselineCsvTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    internal static TaskLookup Catalog(string task, string? variant) => (task, variant ?? "cpu") switch
    {
        ("alpha", "cpu") => new TaskLookup(new TaskConstants("cpu", 5, 1)),
        ("beta", "cpu") => new TaskLookup(new TaskConstants("cpu", 0, 10)),
        ("alpha" or "beta", var v) => new TaskLookup(null, "variant", $"task '{task}' has no variant '{v}'"),
        _ => new TaskLookup(null, "task", $"unknown task '{task}'"),
    };

    public const string Good = """
        task,variant,raw_score,hours,hourly_rate_usd,score_points
        alpha,,2.0,8,100,"1:4.0;2:nan;6:2.0"

        beta,cpu,7.5,6.5,,
        """;

    [Fact]
    public void Parses_rows_into_human_attempts_normalized_with_the_catalogs_constants()
    {
        var rows = HumanBaselineCsv.Parse(Good, "experts.csv", Catalog, Now);

        Assert.Equal(2, rows.Count);
        var alpha = rows[0];
        Assert.Equal(("human", "alpha", "cpu", "completed"), (alpha.Agent, alpha.TaskId, alpha.Variant, alpha.Status));
        Assert.Equal(2.0, alpha.RawScore);
        Assert.Equal(0.75, alpha.NormalizedScore!.Value, 1e-12); // (2 - 5) / (1 - 5)
        Assert.True(alpha.Valid);
        Assert.Equal((8 * 3600.0, 8 * 3600.0), (alpha.WorkingSeconds, alpha.TimeBudgetSeconds));
        Assert.Equal((800.0, CostBasis.HourlyRate), (alpha.CostUsd, alpha.CostBasis));
        Assert.Equal(
            // The three points given, then the final score at the end of the 8 hours.
            [(3_600_000L, true, (double?)0.25), (7_200_000L, false, null), (21_600_000L, true, 0.75), (28_800_000L, true, 0.75)],
            alpha.Timeline.Select(p => (p.ElapsedMs, p.Valid, p.NormalizedScore)));
        Assert.Equal("human-import:experts.csv", alpha.Source);

        var beta = rows[1];
        Assert.Equal(0.75, beta.NormalizedScore!.Value, 1e-12); // 7.5 / 10
        Assert.Equal((0.0, CostBasis.Unknown), (beta.CostUsd, beta.CostBasis));
        Assert.Equal(HumanBaselineCsv.DefaultBudgetHours * 3600, beta.TimeBudgetSeconds);
        Assert.Equal([(23_400_000L, 7.5)], beta.Timeline.Select(p => (p.ElapsedMs, p.RawScore!.Value))); // only the final score
        Assert.Equal(alpha.CampaignId, beta.CampaignId); // one batch
    }

    [Fact]
    public void A_rows_identity_is_its_row_id_else_person_and_start_else_its_content_never_the_file_around_it()
    {
        Guid Id(string csv, int row = 0) => HumanBaselineCsv.Parse(csv, "x.csv", Catalog, Now)[row].AttemptId;

        // row_id: the same row however its values change.
        Assert.Equal(Id("task,raw_score,hours,row_id\nalpha,2,8,r-17\n"), Id("row_id,task,raw_score,hours\nr-17,alpha,3.5,7\n"));
        Assert.NotEqual(Id("task,raw_score,hours,row_id\nalpha,2,8,r-17\n"), Id("task,raw_score,hours,row_id\nalpha,2,8,r-18\n"));
        // task + person + started_at (any time zone spelling of the same instant).
        Assert.Equal(Id("task,raw_score,hours,person,started_at\nalpha,2,8,ann,2024-05-01T09:00:00Z\n"),
            Id("task,raw_score,hours,person,started_at\nalpha,4,8,ann,2024-05-01T11:00:00+02:00\n"));
        // Neither: the content, whatever other rows the file holds or where the row stands in it (a one-row file
        // holding an existing row is that row, not a new one).
        const string two = "task,raw_score,hours\nbeta,7.5,6\nalpha,2,8\n";
        Assert.Equal(Id(two, 1), Id("task,raw_score,hours\nalpha,2,8\n"));
        Assert.NotEqual(Id(two, 1), Id("task,raw_score,hours\nalpha,2.5,8\n"));
        var keyed = HumanBaselineCsv.Parse("task,raw_score,hours,person,started_at\nalpha,2,8,ann,2024-05-01T09:00:00Z\n", "x", Catalog, Now)[0];
        Assert.Equal(("ann@2024-05-01T09:00:00.0000000Z", "ann"), (keyed.RowKey, keyed.Person));
    }

    /// <summary>The README's example file is a valid import (every task known, with made-up constants).</summary>
    [Fact]
    public void The_documented_example_file_imports()
    {
        var csv = File.ReadAllText(Path.Combine(ReBench.Testing.TestEnv.RepoRoot, "docs", "examples", "human-baselines.csv"));
        var rows = HumanBaselineCsv.Parse(csv, "human-baselines.csv", (task, variant) => new TaskLookup(new TaskConstants(variant ?? "cpu", 10, 1)), Now);

        Assert.Equal(["h-001", "h-002", "h-003"], rows.Select(r => r.RowKey));
        Assert.Equal([true, false, true], rows.Select(r => r.Valid));
        Assert.Equal(4, rows[0].Timeline.Count); // three points and the final score
    }

    [Theory]
    [InlineData("nan")]
    [InlineData("NaN")]
    [InlineData("")]
    public void A_human_without_a_valid_final_score_is_recorded_as_such(string raw)
    {
        var row = HumanBaselineCsv.Parse($"task,raw_score,hours,score_points\nalpha,{raw},8,2:3.0\n", "x", Catalog, Now)[0];

        Assert.False(row.Valid);
        Assert.Null(row.RawScore);
        Assert.Null(row.NormalizedScore);
        Assert.Equal(0, row.ReportScore);
        // Its points stand; the end point is the invalid final score.
        Assert.Equal([(true, (double?)0.5), (false, null)], row.Timeline.Select(p => (p.Valid, p.NormalizedScore)));
    }

    [Fact]
    public void The_same_content_gives_the_same_ids_so_a_reimport_changes_nothing()
    {
        var first = HumanBaselineCsv.Parse(Good, "a.csv", Catalog, Now);
        var second = HumanBaselineCsv.Parse(Good.Replace("\n", "\r\n"), "b.csv", Catalog, Now.AddDays(1));
        Assert.Equal(first.Select(r => r.Id), second.Select(r => r.Id));
        Assert.NotEqual(first[0].Id, first[1].Id);
        var changed = HumanBaselineCsv.Parse(Good.Replace("7.5", "7.6"), "a.csv", Catalog, Now);
        Assert.NotEqual(first[0].CampaignId, changed[0].CampaignId);
    }

    [Fact]
    public void A_byte_order_mark_is_not_part_of_the_first_column_name() =>
        Assert.Single(HumanBaselineCsv.Parse("\uFEFFtask,raw_score,hours\nalpha,2.0,8\n", "x", Catalog, Now));

    [Fact]
    public void Below_the_starting_score_is_zero() =>
        Assert.Equal(0, HumanBaselineCsv.Parse("task,raw_score,hours\nalpha,6.0,8\n", "x", Catalog, Now)[0].NormalizedScore);

    [Theory]
    [InlineData("task,hours\nalpha,8\n", "line 1: missing column 'raw_score'")]
    [InlineData("task,raw_score,hours,score\nalpha,2,8,1\n", "line 1, column 4: unknown column 'score'")]
    [InlineData("task,raw_score,hours\nalpha,2,8\nalpha,abc,8\n", "line 3, column raw_score: 'abc' is not a number")]
    [InlineData("task,raw_score,hours\nalpha,inf,8\n", "line 2, column raw_score: 'inf' is not a number")]
    [InlineData("task,raw_score,hours,person\nalpha,2,8,ann\n", "line 2, column started_at: person and started_at identify a row together")]
    [InlineData("task,raw_score,hours,person,started_at\nalpha,2,8,ann,yesterday\n", "line 2, column started_at: 'yesterday' is not a date and time")]
    [InlineData("task,raw_score,hours,row_id\nalpha,2,8,r1\nbeta,3,8,r1\n", "line 3: the same row as line 2 (row 'r1')")]
    [InlineData("task,raw_score,hours\nalpha,2,8\nalpha,2,8\n", "line 3: the same row as line 2 (task alpha, identical content)")]
    [InlineData("task,raw_score,hours\ngamma,2,8\n", "line 2, column task: unknown task 'gamma'")]
    [InlineData("task,variant,raw_score,hours\nalpha,gpu,2,8\n", "line 2, column variant: task 'alpha' has no variant 'gpu'")]
    [InlineData("task,raw_score,hours\nalpha,2,0\n", "line 2, column hours: 0 must be greater than 0")]
    [InlineData("task,raw_score,hours\nalpha,2\n", "line 2: 2 fields, the header has 3")]
    [InlineData("task,raw_score,hours,score_points\nalpha,2,8,1h:3\n", "line 2, column score_points: point '1h:3' is not hours:raw_score")]
    [InlineData("task,raw_score,hours,score_points\nalpha,2,8,2:3;1:2\n", "line 2, column score_points: point '1:2' goes back in time")]
    [InlineData("task,raw_score,hours\n\"alpha,2,8\n", "line 2, column 1: unterminated quoted field")]
    [InlineData("", "line 1: the CSV is empty")]
    [InlineData("task,raw_score,hours\n", "the CSV has a header but no rows")]
    public void Bad_input_is_refused_naming_line_and_column(string csv, string expected)
    {
        var e = Assert.Throws<CsvImportException>(() => HumanBaselineCsv.Parse(csv, "x", Catalog, Now));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Every_bad_row_is_reported_at_once()
    {
        var e = Assert.Throws<CsvImportException>(() =>
            HumanBaselineCsv.Parse("task,raw_score,hours\nalpha,x,8\nalpha,2,8\ngamma,2,8\n", "x", Catalog, Now));
        Assert.Equal(["line 2, column raw_score: 'x' is not a number", "line 4, column task: unknown task 'gamma'"], e.Problems);
    }
}
