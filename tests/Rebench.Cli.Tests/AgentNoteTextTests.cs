namespace ReBench.Cli.Tests;

/// <summary>How `rebench attempts events` prints agent_note_recorded events.</summary>
public sealed class AgentNoteTextTests
{
    [Fact]
    public void Aide_nodes_and_the_tree_are_printed_in_words()
    {
        var good = AgentNoteText.Describe("aide_node",
            """{"node":2,"parent":1,"operation":"improve","plan":"Vectorize\nit.","buggy":false,"normalized_score":0.91864,"raw_score":2.2512,"best_so_far":true}""");
        var buggy = AgentNoteText.Describe("aide_node",
            """{"node":0,"parent":null,"operation":"draft","plan":"","buggy":true,"buggy_reason":"`python3 'solution.py'` exited with code 1","best_so_far":false}""");
        var tree = AgentNoteText.Describe("aide_tree",
            """{"node_count":4,"good_count":3,"best_node":2,"best_normalized_score":0.91864,"reason":"highest normalized score","stop_reason":"max_nodes (4) reached","restored":"node 2"}""");

        Assert.Equal("aide node 2 (improve of 1): normalized=0.9186 raw=2.251 *best so far*\n      plan: Vectorize it.", good);
        Assert.Equal("aide node 0 (draft): BUGGY `python3 'solution.py'` exited with code 1", buggy);
        Assert.Equal("aide tree: 4 nodes (3 good), best node 2 normalized=0.9186: highest normalized score\n      stopped: max_nodes (4) reached; restored: node 2", tree);
    }

    [Fact]
    public void Other_notes_and_unreadable_json_are_printed_as_they_are()
    {
        Assert.Equal("""custom: {"a":1}""", AgentNoteText.Describe("custom", """{"a":1}"""));
        Assert.Equal("aide_node: {not json", AgentNoteText.Describe("aide_node", "{not json"));
    }
}
