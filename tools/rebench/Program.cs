using ReBench.Cli;

return await CliApp.Build().Parse(args).InvokeAsync();
