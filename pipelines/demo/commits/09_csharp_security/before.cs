using System;
using System.Collections.Generic;
using System.Data.Common;
using System.Threading.Tasks;

namespace Acme.Accounts.Data
{
    public sealed record UserSummary(long Id, string Email, string DisplayName, bool IsActive);

    public class UserRepository
    {
        private readonly DbConnection _connection;

        public UserRepository(DbConnection connection)
        {
            _connection = connection ?? throw new ArgumentNullException(nameof(connection));
        }

        public async Task<IReadOnlyList<UserSummary>> SearchAsync(
            string emailPrefix, bool activeOnly, int limit)
        {
            var sql = "SELECT id, email, display_name, is_active FROM users " +
                      "WHERE email LIKE '" + emailPrefix + "%'";
            if (activeOnly)
            {
                sql += " AND is_active = 1";
            }
            sql += " ORDER BY email LIMIT " + limit;

            await using var command = _connection.CreateCommand();
            command.CommandText = sql;

            var results = new List<UserSummary>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                results.Add(new UserSummary(
                    reader.GetInt64(0),
                    reader.GetString(1),
                    reader.GetString(2),
                    reader.GetBoolean(3)));
            }
            return results;
        }
    }
}
