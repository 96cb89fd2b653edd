using System.Diagnostics;

namespace ReBench.Sandbox.Local.Isolation;

/// <summary>
/// The unprivileged user environments run as, and the group that may read protected files (rebench-spec 3.2: agent
/// user, group <c>protected</c>). Scorer runs use a user of their own (<see cref="ScorerUid"/>) whose primary group is
/// the agent's: they read the agent's files through the group, and the agent's processes, being another user, can
/// neither ptrace them nor read their memory (the kernel compares user ids, not supplementary groups). Created as
/// system accounts when missing; the service runs as root.
/// </summary>
internal sealed record AgentAccount(string User, int Uid, int Gid, string ProtectedGroup, int ProtectedGid, string ScorerUser, int ScorerUid)
{
    public static AgentAccount Ensure(string user, string protectedGroup, string scorerUser)
    {
        if (Lookup("/etc/group", protectedGroup) is null) Run("groupadd", "--system", protectedGroup);
        if (Lookup("/etc/passwd", user) is null)
        {
            Run("useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", user);
        }
        var passwd = Lookup("/etc/passwd", user) ?? throw new InvalidOperationException($"user {user} is missing after useradd");
        if (Lookup("/etc/passwd", scorerUser) is null)
        {
            Run("useradd", "--system", "--gid", passwd[3], "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", scorerUser);
        }
        var scorer = Lookup("/etc/passwd", scorerUser) ?? throw new InvalidOperationException($"user {scorerUser} is missing after useradd");
        var group = Lookup("/etc/group", protectedGroup) ?? throw new InvalidOperationException($"group {protectedGroup} is missing after groupadd");
        return new AgentAccount(user, int.Parse(passwd[2]), int.Parse(passwd[3]), protectedGroup, int.Parse(group[2]), scorerUser, int.Parse(scorer[2]));
    }

    private static string[]? Lookup(string file, string name) =>
        File.ReadLines(file).Select(l => l.Split(':')).FirstOrDefault(p => p.Length > 3 && p[0] == name);

    private static void Run(string tool, params string[] args)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        // 9: the name exists; another service instance created it between our check and the call.
        if (p.ExitCode is not (0 or 9)) throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed ({p.ExitCode}): {err.Trim()}");
    }
}
