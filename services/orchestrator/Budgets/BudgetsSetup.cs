namespace ReBench.Orchestrator.Budgets;

/// <summary>This folder's stored event types and services (<see cref="FeatureSetup"/>).</summary>
public static class BudgetsSetup
{
    public static readonly Type[] EventTypes = [typeof(BudgetReserved), typeof(BudgetReservationExpired)];

    public static IServiceCollection AddBudgets(this IServiceCollection services)
    {
        services.AddStoredEvents(EventTypes);
        services.AddSingleton<BudgetLedgerStore>();
        services.AddSingleton<BudgetReservations>();
        return services;
    }
}
