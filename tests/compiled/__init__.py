"""The compiled read path (issue 15): query root fields answered by one SQL statement that builds the
response's JSON, held byte-identical to the resolvers by the differential test beside this file."""
