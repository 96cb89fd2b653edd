namespace ReBench.Orchestrator.Tests;

public sealed class StoredTextTests
{
    [Fact]
    public void Nul_bytes_become_replacement_characters()
    {
        Assert.Equal("x\uFFFDy", StoredText.FromBytes("x\0y"u8));
        Assert.Equal("plain", StoredText.Clean("plain"));
    }

    [Fact]
    public void Binary_content_is_described_not_shown()
    {
        var binary = new byte[] { 0x80, 0x02, 0x00, 0x63 };
        Assert.Equal("(binary, 4 bytes)", StoredText.Preview(binary));
        var text = Encoding.UTF8.GetBytes(new string('a', 600));
        Assert.Equal(new string('a', 512) + "…", StoredText.Preview(text));
    }
}
