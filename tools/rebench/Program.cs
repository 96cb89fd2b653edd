Console.WriteLine("rebench");
