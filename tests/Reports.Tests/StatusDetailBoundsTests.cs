using ReBench.ServiceDefaults;

namespace ReBench.Reports.Tests;

/// <summary>
/// The shared bounds on what a status detail may carry (libs/ServiceDefaults), tested here because this project
/// already builds them: every service's outermost interceptor applies <see cref="ErrorInterceptor.Bound"/>.
/// </summary>
public sealed class StatusDetailBoundsTests
{
    [Fact]
    public void A_long_quoted_value_is_cut_to_100_characters_and_the_detail_to_300()
    {
        var detail = $"attempt_id '{new string('x', 100_000)}' is not a valid id (expected a UUID)";
        var bounded = ErrorInterceptor.Bound(detail);
        Assert.Equal($"attempt_id '{new string('x', 100)}...' is not a valid id (expected a UUID)", bounded);

        var unquoted = ErrorInterceptor.Bound(new string('y', 5_000));
        Assert.Equal(ErrorInterceptor.MaxDetail, unquoted.Length);
        Assert.EndsWith("...", unquoted);
    }

    [Fact]
    public void Short_details_are_unchanged_and_control_characters_shown()
    {
        Assert.Equal("unknown task 'alpha'", ErrorInterceptor.Bound("unknown task 'alpha'"));
        Assert.Equal("name 'a?b' is bad", ErrorInterceptor.Bound("name 'a\0b' is bad"));
    }

    [Fact]
    public void Quote_cuts_and_names_the_length()
    {
        Assert.Equal("abc", Guard.Quote("abc"));
        Assert.Equal($"{new string('z', 60)}... (1000 characters)", Guard.Quote(new string('z', 1000)));
        Assert.Equal("a?b", Guard.Quote("a\0b"));
    }
}
