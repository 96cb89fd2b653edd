namespace ReBench.Tasks.Tests;

/// <summary>
/// Issue 14, "judged code never holds protected rights": a submission that tries, at import and at run time, to read
/// every file of the protected area and to open the official score log for append, and writes what it got into
/// probe-&lt;stage&gt;.json in the home. The file list comes from the scorer's own listing (the agent cannot list the
/// area), and the same reads from the scorer's rights are the control: the test cannot pass because nothing was there.
/// </summary>
public static class HostileProbe
{
    /// <summary>The protected files as a scorer run sees them (the control: they exist, the scorer reads them all and may append to the log).</summary>
    public static async Task<string[]> ProtectedFilesAsync(IsolatedScoring platform, string env)
    {
        var (exit, output) = await platform.ExecAsync(env,
            "cd \"$REBENCH_PROTECTED\" && find \"$PWD\" -type f | sort > /tmp/probe-files && " +
            "xargs -d '\\n' cat < /tmp/probe-files > /dev/null && test -w score.log && echo CONTROL-OK && cat /tmp/probe-files",
            asScorer: true);
        Assert.True(exit == 0, output);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("CONTROL-OK", lines[0]);
        var files = lines[1..];
        Assert.Contains(files, f => f.EndsWith("/score.log"));
        Assert.True(files.Length >= 2, output);
        return files;
    }

    /// <summary>
    /// Python: a function _probe(stage) that tries every file and the log, and records the outcome in the home (or
    /// in /tmp with toTmp: code that may run as the scorer user, which cannot write the agent's home).
    /// </summary>
    public static string Python(IEnumerable<string> files, bool toTmp = false) => $$"""
        import json as _json, os as _os
        _PROBE_FILES = {{JsonSerializer.Serialize(files)}}
        def _probe(stage):
            got = {"stage": stage, "uid": _os.getuid(), "groups": _os.getgroups(), "read": [], "denied": [], "appended": None}
            for path in _PROBE_FILES:
                try:
                    with open(path, "rb") as f:
                        f.read()
                    got["read"].append(path)
                except OSError as e:
                    got["denied"].append(path + ": " + str(e.strerror))
            log = [p for p in _PROBE_FILES if p.endswith("/score.log")][0]
            try:
                with open(log, "a") as f:
                    f.write("forged by the judged code\n")
                got["appended"] = "yes"
            except OSError as e:
                got["appended"] = str(e.strerror)
            with open(_os.path.join({{(toTmp ? "\"/tmp\"" : "_os.environ[\"HOME\"]")}}, "probe-" + stage + ".json"), "w") as f:
                _json.dump(got, f)

        """;

    /// <summary>
    /// Every probe-&lt;prefix&gt;*.json (one per process that ran the probe: a file the interpreter runs at start-up may
    /// run in several), each refused; at least one must exist.
    /// </summary>
    public static async Task<int> AssertEveryRefusedAsync(IsolatedScoring platform, string env, string prefix, string[] files, string directory = ".")
    {
        var (_, listing) = await platform.ExecAsync(env, $"cd {directory} && ls probe-{prefix}*.json", asScorer: false);
        var stages = listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.EndsWith(".json"))
            .Select(l => l["probe-".Length..^".json".Length]).ToList();
        Assert.True(stages.Count > 0, $"no probe-{prefix}*.json: the hostile code never ran ({listing})");
        foreach (var stage in stages) await AssertRefusedAsync(platform, env, stage, files, directory);
        return stages.Count;
    }

    /// <summary>Reads probe-&lt;stage&gt;.json back (as the agent) and asserts every read and the append were refused.</summary>
    public static async Task AssertRefusedAsync(IsolatedScoring platform, string env, string stage, string[] files, string directory = ".")
    {
        var (exit, output) = await platform.ExecAsync(env, $"cat {directory}/probe-{stage}.json", asScorer: false);
        Assert.True(exit == 0, $"the judged code did not run its {stage} probe: {output}");
        using var probe = JsonDocument.Parse(output);
        var root = probe.RootElement;
        Assert.Empty(root.GetProperty("read").EnumerateArray());
        Assert.Equal(files.Length, root.GetProperty("denied").GetArrayLength());
        Assert.All(root.GetProperty("denied").EnumerateArray(), d => Assert.EndsWith("Permission denied", d.GetString()));
        Assert.Equal("Permission denied", root.GetProperty("appended").GetString());
        var (_, log) = await platform.ExecAsync(env, "cat \"$REBENCH_PROTECTED/score.log\"", asScorer: true);
        Assert.DoesNotContain("forged by the judged code", log);
    }
}
