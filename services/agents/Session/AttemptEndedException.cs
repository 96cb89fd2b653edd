namespace ReBench.Agents.Session;

/// <summary>The orchestrator accepts no more steps for the attempt (submitted, budget used up, cancelled).</summary>
public sealed class AttemptEndedException(string message) : Exception(message);
