module example.com/treasure/go-router

go 1.19
