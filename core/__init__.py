"""What every process shares: settings, masking, the clock, the SQL store helper, slot
names, the parsing of customers' words, and the services' contract and client.
Imports none of the other packages."""
