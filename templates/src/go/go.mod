module example.com/staxa-template-go

go 1.19
