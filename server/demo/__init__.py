"""Demo data: a realistic sample agency, loaded into an empty database, that exercises every part
of the user guide. `agency serve --demo` loads it.

- server.demo.data: the agency as declarative data (people, clients and leads, projects,
  invoices, the relationship around them); nothing there touches a database.
- server.demo.loader: writes that data, computing invoice amounts with the product's own
  arithmetic, and returns the sign-ins.
"""

from server.demo.data.people import DEMO_PASSWORD
from server.demo.loader import DemoSignIn, load_demo

__all__ = ["DEMO_PASSWORD", "DemoSignIn", "load_demo"]
