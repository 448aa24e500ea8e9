"""The demo agency as declarative data: who works there, its clients and leads, the projects,
the invoices and the relationship around them. Nothing here touches a database; the loader
(server.demo.loader) writes it."""
