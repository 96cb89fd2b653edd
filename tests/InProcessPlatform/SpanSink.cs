using System.Collections;
using System.Diagnostics;

namespace ReBench.InProcess;

/// <summary>The in-memory exporters of three services add from their own threads while a test reads.</summary>
public sealed class SpanSink : ICollection<Activity>
{
    private readonly List<Activity> _items = [];

    public Activity[] Snapshot()
    {
        lock (_items) return [.. _items];
    }

    public void Add(Activity item)
    {
        lock (_items) _items.Add(item);
    }

    public void Clear()
    {
        lock (_items) _items.Clear();
    }

    public bool Contains(Activity item)
    {
        lock (_items) return _items.Contains(item);
    }

    public void CopyTo(Activity[] array, int arrayIndex)
    {
        lock (_items) _items.CopyTo(array, arrayIndex);
    }

    public bool Remove(Activity item)
    {
        lock (_items) return _items.Remove(item);
    }

    public int Count
    {
        get { lock (_items) return _items.Count; }
    }

    public bool IsReadOnly => false;
    public IEnumerator<Activity> GetEnumerator() => ((IEnumerable<Activity>)Snapshot()).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
